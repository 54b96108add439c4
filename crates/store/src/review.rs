//! The review after the click day, written: an official's decision on one application,
//! the applicant's answer to a request for integration, a top-up of a call's budget, a
//! published list. Each runs in one transaction that first takes the ledger's lock, then
//! reads the state there and hands it to the domain's rule (a closure of the caller), so
//! that what the rule saw is what is written: two reviewers acting at once cannot both win,
//! and no event can over-allocate on any number of nodes. The allocation is replayed from
//! the call's ledger, the record folded in, and every application whose standing moved is
//! rewritten with the counters, the notices, and the ledger entry, in the same commit.

use std::collections::BTreeMap;

use bandi_domain::allocation::{Allocation, Status};
use bandi_domain::application::ApplicationContent;
use bandi_domain::call::Call;
use bandi_domain::instant::{from_micros, truncate_to_micros};
use bandi_domain::ledger::{Entry, Record};
use bandi_domain::list::{ListRow, Outcome};
use bandi_domain::money::Money;
use bandi_domain::notice::{self, About, Notice};
use bandi_domain::review::{Cup, Decision, OpenRequest, Review, ReviewState, Reviewed};
use jiff::Timestamp;
use sqlx::{AnyConnection, Row};

use crate::{Result, Store, StoreError, ledger};

/// An application whose standing in the allocation moved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moved {
    pub seq: u64,
    pub protocol: String,
    pub entity: String,
    pub before: (Status, Money),
    pub after: (Status, Money),
    pub requested: Money,
}

/// What a write did: its ledger entries and the applications whose standing moved.
#[derive(Debug, Clone)]
pub struct Applied {
    pub entries: Vec<Entry>,
    pub moved: Vec<Moved>,
}

/// An application as the review pages and decisions read it.
#[derive(Debug, Clone)]
pub struct UnderReview {
    pub id: String,
    pub seq: u64,
    pub protocol: String,
    pub entity: String,
    pub content: ApplicationContent,
    pub review: Review,
    pub holder_since: Option<Timestamp>,
    pub eligible: Money,
    pub requested: Money,
    pub status: Status,
    pub reserved: Money,
    /// The budget lines' amounts as reductions admitted them, once one cut a line.
    pub admitted_lines: Option<Vec<Money>>,
}

impl UnderReview {
    /// The content with each budget line at the amount the review admitted: what the next
    /// reduction starts from.
    pub fn admitted_content(&self) -> ApplicationContent {
        let mut content = self.content.clone();
        if let Some(lines) = &self.admitted_lines {
            for (line, amount) in content.lines.iter_mut().zip(lines) {
                line.amount_cents = *amount;
            }
        }
        content
    }
}

/// A call read under the lock: its rules, its allocation replayed from its ledger.
pub(crate) struct Locked {
    pub call: Call,
    pub allocation: Allocation,
}

pub(crate) async fn lock_call(conn: &mut AnyConnection, code: &str) -> Result<Option<Locked>> {
    let Some((rules,)): Option<(String,)> =
        sqlx::query_as("SELECT rules FROM calls WHERE code = $1")
            .bind(code)
            .fetch_optional(&mut *conn)
            .await?
    else {
        return Ok(None);
    };
    let call: Call = serde_json::from_str(&rules)
        .map_err(|e| StoreError::Corrupt(format!("rules of call {code}: {e}")))?;
    let mut allocation = Allocation::new(call.when_not_fits, call.budget);
    for (seq, record) in ledger::call_records_after(conn, code, 0).await? {
        if let Some(event) = record.allocation_event() {
            allocation.apply(&event).map_err(|e| {
                StoreError::Corrupt(format!("ledger entry {seq} does not replay: {e}"))
            })?;
        }
    }
    Ok(Some(Locked { call, allocation }))
}

const UNDER_REVIEW: &str = "SELECT id, seq, protocol, entity_code, content, review_state, holder_id, \
    holder_since_us, eligible_cost_cents, requested_cents, current_eligible_cents, \
    current_requested_cents, cup, status, reserved_cents, admitted_lines FROM applications";

/// Application `seq` of `call` with its review, read on `conn`; `None` when there is none.
pub(crate) async fn read_under_review(
    conn: &mut AnyConnection,
    call: &str,
    seq: u64,
) -> Result<Option<UnderReview>> {
    let sql = format!("{UNDER_REVIEW} WHERE call_code = $1 AND seq = $2");
    let Some(row) = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(call)
        .bind(seq as i64)
        .fetch_optional(&mut *conn)
        .await?
    else {
        return Ok(None);
    };
    Ok(Some(under_review_row(conn, &row, call).await?))
}

/// What an action on one application starts from, under the ledger's lock (taken here, in
/// `conn`'s transaction): the chain's head, the call replayed, and application `seq` with
/// its review. `None` when there is no such call or application.
pub(crate) async fn lock_under_review(
    conn: &mut AnyConnection,
    call: &str,
    seq: u64,
) -> Result<Option<(ledger::Head, Locked, UnderReview)>> {
    let head = ledger::lock_head(conn).await?;
    let Some(locked) = lock_call(conn, call).await? else {
        return Ok(None);
    };
    let Some(app) = read_under_review(conn, call, seq).await? else {
        return Ok(None);
    };
    Ok(Some((head, locked, app)))
}

async fn under_review_row(
    conn: &mut AnyConnection,
    row: &sqlx::any::AnyRow,
    call: &str,
) -> Result<UnderReview> {
    let seq = row.try_get::<i64, _>("seq")? as u64;
    let content: String = row.try_get("content")?;
    let state: String = row.try_get("review_state")?;
    let status: String = row.try_get("status")?;
    let checklist: Vec<(String, i64)> = sqlx::query_as(
        "SELECT item, passed FROM checklist_results WHERE call_code = $1 AND seq = $2",
    )
    .bind(call)
    .bind(seq as i64)
    .fetch_all(&mut *conn)
    .await?;
    let requests: Vec<(i64, i64, Option<i64>)> = sqlx::query_as(
        "SELECT request, deadline_us, COALESCE(answer_ledger_seq, closed_ledger_seq) FROM integration_requests \
         WHERE call_code = $1 AND seq = $2 ORDER BY request",
    )
    .bind(call)
    .bind(seq as i64)
    .fetch_all(&mut *conn)
    .await?;
    let open_request = requests
        .iter()
        .filter(|(_, _, answered)| answered.is_none())
        .map(|(n, deadline, _)| OpenRequest {
            request: *n as u32,
            deadline: from_micros(*deadline).unwrap_or(Timestamp::UNIX_EPOCH),
        })
        .next_back();
    let cup: Option<String> = row.try_get("cup")?;
    let eligible: Option<i64> = row.try_get("current_eligible_cents")?;
    let requested: Option<i64> = row.try_get("current_requested_cents")?;
    Ok(UnderReview {
        id: row.try_get("id")?,
        seq,
        protocol: row.try_get("protocol")?,
        entity: row.try_get("entity_code")?,
        content: serde_json::from_str(&content)
            .map_err(|e| StoreError::Corrupt(format!("content of {call}/{seq}: {e}")))?,
        review: Review {
            state: ReviewState::parse(&state)
                .ok_or_else(|| StoreError::Corrupt(format!("review state {state:?}")))?,
            holder: row.try_get("holder_id")?,
            checklist: checklist
                .into_iter()
                .map(|(item, passed)| (item, passed != 0))
                .collect::<BTreeMap<_, _>>(),
            requests: requests.len() as u32,
            open_request,
            cup: cup
                .map(|c| Cup::parse(&c))
                .transpose()
                .map_err(|_| StoreError::Corrupt(format!("CUP of {call}/{seq}")))?,
        },
        holder_since: row
            .try_get::<Option<i64>, _>("holder_since_us")?
            .and_then(from_micros),
        eligible: Money::from_cents(eligible.unwrap_or(row.try_get("eligible_cost_cents")?)),
        requested: Money::from_cents(requested.unwrap_or(row.try_get("requested_cents")?)),
        status: Status::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("status {status:?}")))?,
        reserved: Money::from_cents(row.try_get("reserved_cents")?),
        admitted_lines: row
            .try_get::<Option<String>, _>("admitted_lines")?
            .map(|j| serde_json::from_str(&j))
            .transpose()
            .map_err(|e| StoreError::Corrupt(format!("admitted lines of {call}/{seq}: {e}")))?,
    })
}

/// The notice an official's record sends to the application's entity.
fn decision_notice(
    record: &Record,
    about: &About<'_>,
    text: Option<&str>,
    deadline_local: impl Fn(&str) -> String,
) -> Option<Notice> {
    let text = text.unwrap_or("");
    Some(match record {
        Record::IntegrationRequested { deadline, .. } => {
            notice::integration_requested(about, text, &deadline_local(deadline))
        }
        Record::ApplicationAdmitted { .. } => notice::admitted(about, text),
        Record::ApplicationReduced {
            eligible_cost_cents,
            requested_cents,
            ..
        } => notice::reduced(about, text, *eligible_cost_cents, *requested_cents),
        Record::ApplicationRejected { .. } => notice::rejected(about, text),
        Record::ApplicationWithdrawn { .. } => notice::withdrawn(about, text),
        Record::CupRecorded { cup, .. } => notice::cup_recorded(about, cup),
        Record::AwardRevoked { act, .. } => notice::revoked(about, text, &act.in_words()),
        _ => return None,
    })
}

impl Store {
    /// An application with its review, for the officials' pages.
    pub async fn under_review(&self, call: &str, seq: u64) -> Result<Option<UnderReview>> {
        let mut conn = self.pool().acquire().await?;
        read_under_review(&mut conn, call, seq).await
    }

    /// An official's action on application `seq` of `call`, by `actor` (an account id):
    /// `decide` gets, under the ledger's lock, the application's review and what a
    /// decision needs, and gives the decision (or a refusal, returned as it is, with
    /// nothing written). `None` when there is no such application.
    pub async fn decide_on<E>(
        &self,
        call: &str,
        seq: u64,
        actor: &str,
        decide: impl FnOnce(&Review, &Reviewed<'_>, Timestamp) -> std::result::Result<Decision, E>,
    ) -> Result<Option<std::result::Result<Applied, E>>> {
        let mut tx = self.begin_write().await?;
        let Some((mut head, locked, app)) = lock_under_review(&mut tx, call, seq).await? else {
            return Ok(None);
        };
        let admitted = app.admitted_content();
        let standing = *locked
            .allocation
            .get(seq)
            .ok_or_else(|| StoreError::Corrupt(format!("{call}/{seq} not in the allocation")))?;
        let reviewed = Reviewed {
            call: &locked.call,
            seq,
            content: &admitted,
            eligible: app.eligible,
            requested: standing.requested,
            status: standing.status,
        };
        // One instant, under the lock, for the decision's rules (deadlines) and its entry.
        let now = truncate_to_micros(Timestamp::now());
        let decision = match decide(&app.review, &reviewed, now) {
            Ok(d) => d,
            Err(e) => return Ok(Some(Err(e))),
        };
        let entity_name = entity_name(&mut tx, &app.entity).await?;
        let title = locked.call.title.it.clone();
        let about = About {
            call_title: &title,
            protocol: &app.protocol,
            entity_name: &entity_name,
        };
        let call_rules = locked.call.clone();
        let notice = decision_notice(
            &decision.record,
            &about,
            decision.text.as_deref(),
            |deadline: &str| {
                deadline
                    .parse::<Timestamp>()
                    .map(|t| call_rules.local_time(t))
                    .unwrap_or_else(|_| deadline.to_string())
            },
        );
        let applied = write_records(
            &mut tx,
            &mut head,
            locked,
            vec![(decision.record.clone(), decision.text.clone())],
            actor,
            now,
        )
        .await?;
        let entry_seq = applied.entries[0].seq as i64;
        write_review(&mut tx, call, &app, &decision, entry_seq, now).await?;
        if let Some(n) = notice {
            insert_notice(&mut tx, &app.entity, call, Some(seq), &n, entry_seq, now).await?;
        }
        tx.commit().await?;
        Ok(Some(Ok(applied)))
    }

    /// The applicant's answer to the open request for integration of application `seq`:
    /// `answer` gets the review under the lock and gives the decision; the answer's text
    /// is kept beside the entry, and its documents (already stored in the entity's draft of
    /// documents for this answer) are sealed to it.
    pub async fn answer_integration<E>(
        &self,
        call: &str,
        seq: u64,
        actor: &str,
        text: &str,
        answer: impl FnOnce(&Review, &Call, Timestamp) -> std::result::Result<Decision, E>,
    ) -> Result<Option<std::result::Result<Applied, E>>> {
        let mut tx = self.begin_write().await?;
        let Some((mut head, locked, app)) = lock_under_review(&mut tx, call, seq).await? else {
            return Ok(None);
        };
        let now = truncate_to_micros(Timestamp::now());
        let decision = match answer(&app.review, &locked.call, now) {
            Ok(d) => d,
            Err(e) => return Ok(Some(Err(e))),
        };
        let Record::IntegrationAnswered {
            request,
            content_sha256,
            ..
        } = &decision.record
        else {
            return Err(StoreError::Corrupt("an answer that is not one".into()));
        };
        let (request, sha) = (*request, content_sha256.clone());
        let applied = write_records(
            &mut tx,
            &mut head,
            locked,
            vec![(decision.record.clone(), None)],
            actor,
            now,
        )
        .await?;
        let entry_seq = applied.entries[0].seq as i64;
        sqlx::query(
            "UPDATE integration_requests SET answer_ledger_seq = $1, answer_text = $2, answer_sha256 = $3 \
             WHERE call_code = $4 AND seq = $5 AND request = $6",
        )
        .bind(entry_seq)
        .bind(text)
        .bind(&sha)
        .bind(call)
        .bind(seq as i64)
        .bind(i64::from(request))
        .execute(&mut *tx)
        .await?;
        // The answer's documents: sealed to the application, marked as the answer's.
        sqlx::query(
            "UPDATE documents SET application_id = $1 WHERE entity_code = $2 AND call_code = $3 \
             AND integration_request = $4 AND application_id IS NULL AND removed_us IS NULL",
        )
        .bind(&app.id)
        .bind(&app.entity)
        .bind(call)
        .bind(i64::from(request))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Some(Ok(applied)))
    }

    /// A record about a whole call (a top-up, a published list): `decide` gets the call,
    /// its allocation and (with `with_rows`) its applications as a list shows them, under
    /// the lock, and gives the record (or a refusal). The JSON given with a published list
    /// is kept with the act.
    pub async fn call_record<E>(
        &self,
        call: &str,
        actor: &str,
        with_rows: bool,
        decide: impl FnOnce(
            &Call,
            &Allocation,
            &[ListRow],
            u32,
        ) -> std::result::Result<(Record, Option<String>), E>,
    ) -> Result<Option<std::result::Result<Applied, E>>> {
        let mut tx = self.begin_write().await?;
        let mut head = ledger::lock_head(&mut tx).await?;
        let Some(locked) = lock_call(&mut tx, call).await? else {
            return Ok(None);
        };
        let rows = if with_rows {
            list_rows(&mut tx, call).await?
        } else {
            Vec::new()
        };
        let (versions,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM published_lists WHERE call_code = $1")
                .bind(call)
                .fetch_one(&mut *tx)
                .await?;
        let (record, list) = match decide(&locked.call, &locked.allocation, &rows, versions as u32)
        {
            Ok(r) => r,
            Err(e) => return Ok(Some(Err(e))),
        };
        let now = truncate_to_micros(Timestamp::now());
        let locked_title = locked.call.title.it.clone();
        let applied = write_records(
            &mut tx,
            &mut head,
            locked,
            vec![(record.clone(), None)],
            actor,
            now,
        )
        .await?;
        if let (
            Record::ListPublished {
                version,
                list_sha256,
                act,
                ..
            },
            Some(list),
        ) = (&record, list)
        {
            sqlx::query(
                "INSERT INTO published_lists (call_code, version, list_json, list_sha256, act_number, \
                 act_date, act_document_id, published_us, ledger_seq) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(call)
            .bind(i64::from(*version))
            .bind(list)
            .bind(list_sha256)
            .bind(&act.number)
            .bind(&act.date)
            // Acts' documents are kept by their SHA-256.
            .bind(act.document_sha256.clone())
            .bind(now.as_microsecond())
            .bind(applied.entries[0].seq as i64)
            .execute(&mut *tx)
            .await?;
            let act_words = act.in_words();
            for row in &rows {
                let about = bandi_domain::notice::About {
                    call_title: &locked_title,
                    protocol: &row.protocol,
                    entity_name: &row.entity_name,
                };
                let n = bandi_domain::notice::list_published(
                    &about,
                    *version,
                    &act_words,
                    &row.outcome.label().it,
                    row.granted_cents,
                );
                insert_notice(
                    &mut tx,
                    &row.entity_code,
                    call,
                    Some(row.seq),
                    &n,
                    applied.entries[0].seq as i64,
                    now,
                )
                .await?;
            }
        }
        tx.commit().await?;
        Ok(Some(Ok(applied)))
    }
}

/// A call's applications as its list shows them, in protocol order.
pub(crate) async fn list_rows(conn: &mut AnyConnection, call: &str) -> Result<Vec<ListRow>> {
    let rows = sqlx::query(
        "SELECT a.seq, a.protocol, a.entity_code, e.name, a.received_us, a.requested_cents, \
         a.current_requested_cents, a.reserved_cents, a.status, a.review_state FROM applications a \
         JOIN entities e ON e.code = a.entity_code WHERE a.call_code = $1 ORDER BY a.seq",
    )
    .bind(call)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            let status: String = r.try_get("status")?;
            let review: String = r.try_get("review_state")?;
            let status = Status::parse(&status)
                .ok_or_else(|| StoreError::Corrupt(format!("status {status:?}")))?;
            let review = ReviewState::parse(&review)
                .ok_or_else(|| StoreError::Corrupt(format!("review state {review:?}")))?;
            let received: i64 = r.try_get("received_us")?;
            let current: Option<i64> = r.try_get("current_requested_cents")?;
            Ok(ListRow {
                seq: r.try_get::<i64, _>("seq")? as u64,
                protocol: r.try_get("protocol")?,
                entity_code: r.try_get("entity_code")?,
                entity_name: r.try_get("name")?,
                received_at: from_micros(received)
                    .map(bandi_domain::instant::format_utc)
                    .ok_or_else(|| StoreError::Corrupt(format!("instant {received}")))?,
                requested_cents: Money::from_cents(
                    current.unwrap_or(r.try_get("requested_cents")?),
                ),
                granted_cents: Money::from_cents(r.try_get("reserved_cents")?),
                outcome: Outcome::of(review, status),
            })
        })
        .collect()
}

pub(crate) async fn entity_name(conn: &mut AnyConnection, code: &str) -> Result<String> {
    let name: Option<(String,)> = sqlx::query_as("SELECT name FROM entities WHERE code = $1")
        .bind(code)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(name.map(|(n,)| n).unwrap_or_else(|| code.to_string()))
}

/// Folds `records` into the call's allocation, appends them to the ledger with their texts
/// and actor, rewrites every application whose standing moved, the counters, and the
/// notices of the applications that money reached.
pub(crate) async fn write_records(
    conn: &mut AnyConnection,
    head: &mut ledger::Head,
    locked: Locked,
    records: Vec<(Record, Option<String>)>,
    actor: &str,
    now: Timestamp,
) -> Result<Applied> {
    let Locked {
        call,
        mut allocation,
    } = locked;
    let code = call.code.to_string();
    let before = allocation.clone();
    let mut entries = Vec::new();
    for (record, text) in &records {
        if let Some(event) = record.allocation_event() {
            allocation.apply(&event)?;
        }
        let entry = ledger::seal(head, now, record);
        entries.push((entry, text.clone()));
    }
    let sealed: Vec<Entry> = entries.iter().map(|(e, _)| e.clone()).collect();
    ledger::insert(conn, &sealed, head).await?;
    for (entry, text) in &entries {
        if let Some(text) = text {
            sqlx::query("INSERT INTO ledger_texts (ledger_seq, text) VALUES ($1, $2)")
                .bind(entry.seq as i64)
                .bind(text)
                .execute(&mut *conn)
                .await?;
        }
        sqlx::query("INSERT INTO ledger_actors (ledger_seq, user_id) VALUES ($1, $2)")
            .bind(entry.seq as i64)
            .bind(actor)
            .execute(&mut *conn)
            .await?;
    }
    let last = entries.last().map_or(0, |(e, _)| e.seq as i64);
    // Every application whose standing moved, the decision's own and those the money
    // reached.
    let target = records.iter().find_map(|(r, _)| r.application());
    let mut moved = Vec::new();
    for (old, new) in before.applications().iter().zip(allocation.applications()) {
        if (old.status, old.reserved, old.requested) == (new.status, new.reserved, new.requested) {
            continue;
        }
        let row: (String, String) = sqlx::query_as(
            "UPDATE applications SET status = $1, reserved_cents = $2 WHERE call_code = $3 AND seq = $4 \
             RETURNING protocol, entity_code",
        )
        .bind(new.status.as_str())
        .bind(new.reserved.cents())
        .bind(&code)
        .bind(new.seq as i64)
        .fetch_one(&mut *conn)
        .await?;
        let m = Moved {
            seq: new.seq,
            protocol: row.0,
            entity: row.1,
            before: (old.status, old.reserved),
            after: (new.status, new.reserved),
            requested: new.requested,
        };
        if Some(m.seq) != target && m.after.1 > m.before.1 {
            let name = entity_name(conn, &m.entity).await?;
            let about = About {
                call_title: &call.title.it,
                protocol: &m.protocol,
                entity_name: &name,
            };
            let n = notice::funded(&about, m.after.1, m.requested);
            insert_notice(conn, &m.entity, &code, Some(m.seq), &n, last, now).await?;
        }
        moved.push(m);
    }
    sqlx::query(
        "UPDATE calls SET budget_cents = $1, reserved_cents = $2, waitlisted = $3, \
         last_event_ledger_seq = $4 WHERE code = $5",
    )
    .bind(allocation.budget().cents())
    .bind(allocation.reserved().cents())
    .bind(allocation.waitlisted_count() as i64)
    .bind(last)
    .bind(&code)
    .execute(&mut *conn)
    .await?;
    Ok(Applied {
        entries: sealed,
        moved,
    })
}

/// The review's row and its satellites after a decision.
async fn write_review(
    conn: &mut AnyConnection,
    call: &str,
    app: &UnderReview,
    decision: &Decision,
    entry_seq: i64,
    now: Timestamp,
) -> Result<()> {
    let r = &decision.review;
    let holder_since = match (&r.holder, &app.review.holder) {
        (Some(new), Some(old)) if new == old => app.holder_since.map(|t| t.as_microsecond()),
        (Some(_), _) => Some(now.as_microsecond()),
        (None, _) => None,
    };
    let (eligible, requested) = match decision.amounts {
        Some((e, g)) => (Some(e.cents()), Some(g.cents())),
        None => (None, None),
    };
    sqlx::query(
        "UPDATE applications SET review_state = $1, holder_id = $2, holder_since_us = $3, cup = $4, \
         current_eligible_cents = COALESCE($5, current_eligible_cents), \
         current_requested_cents = COALESCE($6, current_requested_cents) \
         WHERE call_code = $7 AND seq = $8",
    )
    .bind(r.state.as_str())
    .bind(r.holder.clone())
    .bind(holder_since)
    .bind(r.cup.as_ref().map(|c| c.to_string()))
    .bind(eligible)
    .bind(requested)
    .bind(call)
    .bind(app.seq as i64)
    .execute(&mut *conn)
    .await?;
    // A decision closes the request still open (an answer closes it as answered).
    if let Some(open) = app.review.open_request
        && decision.review.open_request.is_none()
        && !matches!(decision.record, Record::IntegrationAnswered { .. })
    {
        sqlx::query(
            "UPDATE integration_requests SET closed_ledger_seq = $1 WHERE call_code = $2 \
             AND seq = $3 AND request = $4 AND answer_ledger_seq IS NULL",
        )
        .bind(entry_seq)
        .bind(call)
        .bind(app.seq as i64)
        .bind(i64::from(open.request))
        .execute(&mut *conn)
        .await?;
    }
    match &decision.record {
        Record::ApplicationReduced { lines, .. } if !lines.is_empty() => {
            let mut admitted: Vec<Money> = app
                .admitted_content()
                .lines
                .iter()
                .map(|l| l.amount_cents)
                .collect();
            for cut in lines {
                if let Some(a) = admitted.get_mut(cut.line as usize) {
                    *a = cut.admitted_cents;
                }
            }
            let json = serde_json::to_string(&admitted).expect("amounts serialise");
            sqlx::query(
                "UPDATE applications SET admitted_lines = $1 WHERE call_code = $2 AND seq = $3",
            )
            .bind(json)
            .bind(call)
            .bind(app.seq as i64)
            .execute(&mut *conn)
            .await?;
        }
        Record::ChecklistChecked { item, passed, .. } => {
            sqlx::query(
                "INSERT INTO checklist_results (call_code, seq, item, passed, ledger_seq) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (call_code, seq, item) DO UPDATE SET passed = excluded.passed, ledger_seq = excluded.ledger_seq",
            )
            .bind(call)
            .bind(app.seq as i64)
            .bind(item)
            .bind(i64::from(*passed))
            .bind(entry_seq)
            .execute(&mut *conn)
            .await?;
        }
        Record::IntegrationRequested {
            request, deadline, ..
        } => {
            let deadline: Timestamp = deadline
                .parse()
                .map_err(|_| StoreError::Corrupt(format!("deadline {deadline}")))?;
            // An earlier request left unanswered (its deadline passed) is closed by the new one.
            sqlx::query(
                "UPDATE integration_requests SET closed_ledger_seq = $1 WHERE call_code = $2 \
                 AND seq = $3 AND answer_ledger_seq IS NULL AND closed_ledger_seq IS NULL",
            )
            .bind(entry_seq)
            .bind(call)
            .bind(app.seq as i64)
            .execute(&mut *conn)
            .await?;
            sqlx::query(
                "INSERT INTO integration_requests (call_code, seq, request, deadline_us, request_ledger_seq) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(call)
            .bind(app.seq as i64)
            .bind(i64::from(*request))
            .bind(deadline.as_microsecond())
            .bind(entry_seq)
            .execute(&mut *conn)
            .await?;
        }
        _ => {}
    }
    Ok(())
}

/// A notice to an entity, in the same transaction as the event it tells of.
pub(crate) async fn insert_notice(
    conn: &mut AnyConnection,
    entity: &str,
    call: &str,
    seq: Option<u64>,
    n: &Notice,
    ledger_seq: i64,
    now: Timestamp,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO notices (id, entity_code, call_code, seq, kind, subject, body, created_us, ledger_seq) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(crate::random_hex(16))
    .bind(entity)
    .bind(call)
    .bind(seq.map(|s| s as i64))
    .bind(n.kind.as_str())
    .bind(&n.subject)
    .bind(&n.body)
    .bind(now.as_microsecond())
    .bind(ledger_seq)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
