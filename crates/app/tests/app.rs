//! The use cases of `bandi_app` against a real store, every case on SQLite and on
//! PostgreSQL (when `BANDI_TEST_POSTGRES_URL` is set; `scripts/test.sh` always sets it):
//! what each use case does, and each of its refusals, which change nothing.

#[path = "app/accounts.rs"]
mod accounts;
#[path = "app/calls.rs"]
mod calls;
#[path = "app/drafts.rs"]
mod drafts;
#[path = "app/intake.rs"]
mod intake;
#[path = "app/outbox.rs"]
mod outbox;
#[path = "app/practices.rs"]
mod practices;
#[path = "app/proofs.rs"]
mod proofs;
#[path = "app/reports.rs"]
mod reports;
#[path = "app/review.rs"]
mod review;
#[path = "app/services.rs"]
mod services;
#[path = "app/sign_in.rs"]
mod sign_in;
#[path = "app/support.rs"]
mod support;

macro_rules! on_both_backends {
    ($($module:ident :: $case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    crate::$module::$case(bandi_store::testing::TestDb::sqlite()).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    match bandi_store::testing::TestDb::postgres().await {
                        Some(db) => crate::$module::$case(db).await,
                        None => eprintln!("BANDI_TEST_POSTGRES_URL not set: PostgreSQL case skipped"),
                    }
                }
            )*
        }
    };
}

on_both_backends!(
    intake::submissions_and_their_refusals,
    intake::a_retry_after_the_closing_gets_its_receipt,
    drafts::drafts_documents_and_their_refusals,
    calls::calls_and_their_refusals,
    accounts::accounts_and_their_refusals,
    accounts::fiscal_code_accounts_sign_in_with_spid_only,
    practices::practices_are_proposed_decided_and_reused,
    practices::practice_files_are_attached_by_their_authority_and_read_once_published,
    services::catalogue_lines_and_cited_practices_are_checked_at_submission,
    sign_in::sign_in_throttles_without_locking_the_owner_out,
    sign_in::the_throttle_holds_across_nodes,
    review::reviews_decisions_and_the_waitlist,
    review::top_ups_and_published_lists,
    outbox::a_notice_reaches_the_entity_by_smtp,
    outbox::a_crash_between_commit_and_send_loses_nothing_and_sends_once,
    outbox::without_smtp_messages_stay_in_the_outbox,
    outbox::a_password_reset_link_reaches_its_person_by_smtp,
    proofs::a_rotation_ends_the_old_key_and_keeps_it_published,
    proofs::the_checkpointer_mirrors_and_signs_at_shutdown,
    reports::reports_verification_payments_and_revocation,
    reports::a_late_report_is_listed_until_its_deadline_is_extended,
);
