//! The storage contract: every case runs once on SQLite and once on PostgreSQL.
//!
//! Each case is written once, as `async fn case(db: &TestDb)` in a module under
//! `tests/contract/`, and [`contract!`] turns the list of cases into one `#[tokio::test]`
//! per backend: `sqlite::case` and `postgres::case`. The PostgreSQL tests create a fresh
//! database on the server at `BANDI_TEST_POSTGRES_URL`; when the variable is unset they
//! print a line and pass (`scripts/test.sh` and CI always set it).

#[path = "contract/accounts.rs"]
mod accounts;
#[path = "contract/documents.rs"]
mod documents;
#[path = "contract/durability.rs"]
mod durability;
#[path = "contract/fold_logs.rs"]
mod fold_logs;
#[path = "contract/intake.rs"]
mod intake;
#[path = "contract/nodes.rs"]
mod nodes;
#[path = "contract/practices.rs"]
mod practices;
#[path = "contract/registry.rs"]
mod registry;
#[path = "contract/services.rs"]
mod services;
#[path = "contract/support.rs"]
mod support;
#[path = "contract/tamper.rs"]
mod tamper;

macro_rules! contract {
    ($($module:ident :: $case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let db = bandi_store::testing::TestDb::sqlite();
                    crate::$module::$case(&db).await;
                }
            )*
        }

        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let Some(db) = bandi_store::testing::TestDb::postgres().await else {
                        eprintln!(
                            "skipped postgres::{}: {} is not set",
                            stringify!($case),
                            bandi_store::testing::POSTGRES_ENV
                        );
                        return;
                    };
                    crate::$module::$case(&db).await;
                }
            )*
        }
    };
}

contract!(
    registry::migrate_is_idempotent,
    registry::entities_upsert_is_idempotent,
    registry::an_import_elsewhere_reaches_a_nodes_cached_registry,
    registry::receipts_notices_are_found_and_dispatched_to_each_address,
    registry::tokens_belong_to_entities,
    registry::tokens_issued_elsewhere_are_found,
    registry::bulk_writes_leave_postgres_statistics_fresh,
    registry::loading_every_token_yields_to_other_tasks,
    registry::stale_statistics_are_refreshed_on_postgres,
    registry::import_call_lifecycle,
    intake::intake_300_concurrent_waitlist,
    intake::intake_300_concurrent_all_fit,
    intake::intake_retries_are_idempotent,
    intake::refusals_store_nothing,
    intake::intake_retries_without_per_entity_limit,
    intake::duplicates_queued_behind_the_lock,
    intake::a_full_queue_refuses_at_once,
    intake::a_stalled_sequencer_sheds_at_once,
    intake::entity_lookup_uses_its_index,
    intake::one_entity_cannot_fill_the_queue,
    intake::budget_below_one_grant,
    durability::migrate_on_nodes_starting_together,
    durability::receipts_survive_a_restart,
    durability::receipts_move_to_their_table,
    fold_logs::a_restart_starts_from_the_fold_log,
    fold_logs::a_fold_log_unlike_the_ledger_is_set_aside,
    durability::failed_commit_answers_nothing,
    tamper::verify_detects_tampering,
    tamper::verify_detects_changed_attachments,
    nodes::two_nodes_share_one_sequence,
    nodes::retries_on_another_node,
    nodes::naive_baseline_keeps_the_rules,
    nodes::restarted_node_continues_the_call,
    accounts::accounts_sessions_and_drafts,
    accounts::lookups_for_pages,
    accounts::sign_in_attempts_are_counted_exactly,
    accounts::fiscal_codes_and_sign_in_flows,
    practices::practices_are_found_in_italian_moderated_and_reused,
    services::the_catalogue_is_imported_whole_and_withdrawn_services_stay_known,
    documents::documents_belong_to_drafts_until_sealed,
);
