//! The review after the click day, as use cases: an official's action on an application
//! (take it, tick its checklist, ask for an integration, admit, reduce, reject, record a
//! withdrawal or a CUP), the applicant's answer, its own withdrawal and CUP, a top-up of a
//! call's budget, a published list. Who may is checked here; what the state allows is the
//! domain's rule, applied by the store under the ledger's lock.

use bandi_domain::account::Role;
use bandi_domain::allocation::AllocationError;
use bandi_domain::application::AttachedDocument;
use bandi_domain::call::CallCode;
use bandi_domain::document::{DocumentKind, clean_file_name};
use bandi_domain::ledger::{Act, Record};
use bandi_domain::list::PublishedList;
use bandi_domain::money::Money;
use bandi_domain::protocol::ProtocolNumber;
use bandi_domain::review::{self, Action, Official};
use bandi_store::{Applied, Contacts, NewDocument, answer_sha256};
use jiff::Timestamp;

use crate::drafts::{Upload, check_upload};
use crate::{Actor, App, AppError};

/// What a write changed, as the API answers it and the command line prints it last: its
/// ledger entries and every application whose standing moved.
pub fn changes_json(applied: &Applied) -> serde_json::Value {
    serde_json::json!({
        "ledger": applied
            .entries
            .iter()
            .map(|e| serde_json::json!({"seq": e.seq, "kind": e.kind, "hash": e.hash}))
            .collect::<Vec<_>>(),
        "changed": applied
            .moved
            .iter()
            .map(|m| {
                serde_json::json!({
                    "protocol": m.protocol,
                    "seq": m.seq,
                    "status_before": m.before.0.as_str(),
                    "status": m.after.0.as_str(),
                    "reserved_before_cents": m.before.1,
                    "reserved_cents": m.after.1,
                    "requested_cents": m.requested,
                })
            })
            .collect::<Vec<_>>(),
    })
}

/// How an interface names an application: its call and number, or its protocol.
#[derive(Debug, Clone)]
pub enum Which {
    Seq(CallCode, u64),
    Protocol(ProtocolNumber),
}

impl Actor {
    /// The official (or, for its own application, the applicant) as the review's records
    /// name them.
    pub(crate) fn official(&self) -> Option<Official> {
        match self {
            Actor::User(u) if !u.disabled => Some(Official {
                id: u.id.clone(),
                role: u.role,
            }),
            Actor::Operator => Some(Official {
                id: "cli".into(),
                role: Role::Admin,
            }),
            _ => None,
        }
    }
}

impl App {
    /// The call and number of an application named either way.
    pub async fn resolve(&self, which: &Which) -> Result<(CallCode, u64), AppError> {
        match which {
            Which::Seq(call, seq) => Ok((call.clone(), *seq)),
            Which::Protocol(p) => {
                let (call, seq) = self
                    .store()
                    .locate(&p.to_string())
                    .await?
                    .ok_or(AppError::NotFound)?;
                Ok((CallCode::parse(&call).map_err(|_| AppError::NotFound)?, seq))
            }
        }
    }

    /// An official's action on an application. Reviewers and admins only; the rest is the
    /// domain's rule (who holds it, what its state allows).
    pub async fn review(
        &self,
        actor: &Actor,
        which: &Which,
        action: Action,
    ) -> Result<Applied, AppError> {
        actor.require(Role::Reviewer)?;
        let who = actor.official().ok_or(AppError::Forbidden)?;
        self.act(actor, which, who, action).await
    }

    async fn act(
        &self,
        actor: &Actor,
        which: &Which,
        who: Official,
        action: Action,
    ) -> Result<Applied, AppError> {
        let (call, seq) = self.resolve(which).await?;
        let name = action.name();
        let applied = self
            .store()
            .decide_on(call.as_str(), seq, &who.id, |review, app, now| {
                review::decide(review, app, &who, &action, now)
            })
            .await?
            .ok_or(AppError::NotFound)?
            .map_err(AppError::Review)?;
        tracing::info!(call = %call, seq, action = name, by = %actor, "review action");
        Ok(applied)
    }

    /// The applicant gives up its application (rinuncia), from the reserved area.
    pub async fn withdraw_own(
        &self,
        actor: &Actor,
        which: &Which,
        reason: &str,
    ) -> Result<Applied, AppError> {
        let who = self.own(actor, which).await?;
        self.act(
            actor,
            which,
            who,
            Action::Withdraw {
                reason: reason.into(),
            },
        )
        .await
    }

    /// The CUP of a funded application, recorded by its applicant or by an official.
    pub async fn record_cup(
        &self,
        actor: &Actor,
        which: &Which,
        cup: &str,
    ) -> Result<Applied, AppError> {
        let cup = review::Cup::parse(cup).map_err(AppError::Review)?;
        let who = if actor.is_official() {
            actor.official().ok_or(AppError::Forbidden)?
        } else {
            self.own(actor, which).await?
        };
        self.act(actor, which, who, Action::RecordCup { cup }).await
    }

    /// The applicant acting for the application's entity, or the answer of an application
    /// that does not exist.
    async fn own(&self, actor: &Actor, which: &Which) -> Result<Official, AppError> {
        let (call, seq) = self.resolve(which).await?;
        let app = self
            .store()
            .under_review(call.as_str(), seq)
            .await?
            .ok_or(AppError::NotFound)?;
        match actor {
            Actor::User(u) if actor.may_act_for(&app.entity) => Ok(Official {
                id: u.id.clone(),
                role: Role::Applicant,
            }),
            _ => Err(AppError::NotFound),
        }
    }

    /// The applicant's answer to the open request for integration: a text and documents,
    /// sealed together by the SHA-256 the ledger records.
    pub async fn answer_integration(
        &self,
        actor: &Actor,
        which: &Which,
        text: &str,
        uploads: Vec<Upload>,
    ) -> Result<Applied, AppError> {
        let who = self.own(actor, which).await?;
        let (call, seq) = self.resolve(which).await?;
        let app = self
            .store()
            .under_review(call.as_str(), seq)
            .await?
            .ok_or(AppError::NotFound)?;
        let open = app
            .review
            .open_request
            .ok_or(AppError::Review(review::ReviewError::NoOpenRequest))?;
        let text = review::clean_text(text).map_err(AppError::Review)?;
        // Documents first (each checked by its first bytes), then the answer that seals them.
        let mut documents = Vec::new();
        for (i, mut u) in uploads.into_iter().enumerate() {
            let kind: DocumentKind =
                check_upload(&u.head, u.size).map_err(|problem| AppError::InvalidDocument {
                    attachment: format!("answer_{}", i + 1),
                    problem,
                })?;
            let info = self
                .store()
                .put_document(
                    NewDocument {
                        entity: &app.entity,
                        call: call.as_str(),
                        attachment: &format!("answer_{}", i + 1),
                        file_name: &clean_file_name(&u.file_name),
                        content_type: kind.content_type(),
                        uploaded_by: &who.id,
                        integration_request: Some(open.request),
                        report: None,
                    },
                    &mut u.bytes,
                )
                .await?;
            documents.push(AttachedDocument {
                code: info.attachment,
                sha256: info.sha256,
            });
        }
        let sha = answer_sha256(&text, &documents);
        let applied = self
            .store()
            .answer_integration(call.as_str(), seq, &who.id, &text, |review, rules, now| {
                review::answer(review, rules, seq, &sha, now)
            })
            .await?
            .ok_or(AppError::NotFound)?
            .map_err(AppError::Review)?;
        tracing::info!(call = %call, seq, by = %actor, "integration answered");
        Ok(applied)
    }

    /// Money added to (or taken from) a call's budget by an act; the waitlist moves in
    /// order. Admins only.
    pub async fn change_budget(
        &self,
        actor: &Actor,
        call: &CallCode,
        add: Money,
        act: Act,
    ) -> Result<Applied, AppError> {
        actor.require(Role::Admin)?;
        let by = actor.official().ok_or(AppError::Forbidden)?.role;
        if add.cents() == 0 {
            return Err(AppError::InvalidAmount(add.to_string()));
        }
        // Before the opening the call's file is changed instead (a new publication, which
        // restarts the call's fold from its own budget).
        let stored = self
            .store()
            .call(call.as_str())
            .await?
            .ok_or(AppError::CallNotFound)?;
        if stored.call.state_at(Timestamp::now()) == bandi_domain::call::CallState::Upcoming {
            return Err(AppError::CallNotOpenForBudget {
                call: call.to_string(),
            });
        }
        let applied = self
            .store()
            .call_record(
                call.as_str(),
                &actor.id(),
                false,
                |rules, allocation, _, _| {
                    let budget = allocation
                        .budget()
                        .checked_add(add)
                        .filter(|b| *b <= Money::MAX_AMOUNT)
                        .ok_or(AllocationError::Overflow)?;
                    if !budget.is_positive() || budget < allocation.reserved() {
                        return Err(AllocationError::BudgetBelowReserved {
                            budget,
                            reserved: allocation.reserved(),
                        });
                    }
                    Ok((
                        Record::BudgetChanged {
                            call: rules.code.to_string(),
                            budget_cents: budget,
                            act,
                            by,
                        },
                        None,
                    ))
                },
            )
            .await?
            .ok_or(AppError::CallNotFound)?
            .map_err(AppError::Allocation)?;
        tracing::info!(call = %call, add = add.cents(), by = %actor, "budget changed");
        Ok(applied)
    }

    /// Publishes a frozen version of a call's list, approved by `act` (its PDF kept with
    /// it). Admins only.
    pub async fn publish_list(
        &self,
        actor: &Actor,
        call: &CallCode,
        number: &str,
        date: &str,
        document: Option<Upload>,
    ) -> Result<(Applied, u32), AppError> {
        actor.require(Role::Admin)?;
        let by = actor.official().ok_or(AppError::Forbidden)?.role;
        let document_sha256 = match document {
            Some(mut u) => {
                // Checked by its size and first bytes before it is read whole.
                let kind =
                    check_upload(&u.head, u.size).map_err(|problem| AppError::InvalidDocument {
                        attachment: "act".into(),
                        problem,
                    })?;
                let mut bytes = Vec::with_capacity(u.size as usize);
                tokio::io::AsyncReadExt::read_to_end(&mut u.bytes, &mut bytes)
                    .await
                    .map_err(|e| AppError::Unavailable(e.to_string()))?;
                Some(
                    self.store()
                        .put_act_document(
                            call.as_str(),
                            &clean_file_name(&u.file_name),
                            kind.content_type(),
                            &bytes,
                            &actor.id(),
                        )
                        .await?,
                )
            }
            None => None,
        };
        let act = review::act(number, date, document_sha256).map_err(AppError::Review)?;
        let mut version = 0;
        let applied = self
            .store()
            .call_record(
                call.as_str(),
                &actor.id(),
                true,
                |rules, _, rows, versions| {
                    version = versions + 1;
                    let list = PublishedList {
                        call: rules.code.to_string(),
                        version,
                        rows: rows.to_vec(),
                    };
                    let (json, sha) = list.canonical();
                    Ok::<_, AppError>((
                        Record::ListPublished {
                            call: rules.code.to_string(),
                            version,
                            list_sha256: sha,
                            act,
                            by,
                        },
                        Some(json),
                    ))
                },
            )
            .await?
            .ok_or(AppError::CallNotFound)??;
        tracing::info!(call = %call, version, by = %actor, "list published");
        // A published list is a milestone: a checkpoint covers it at once.
        if let Err(e) = self.store().checkpoint().await {
            tracing::warn!(error = %e, "no checkpoint after the published list");
        }
        Ok((applied, version))
    }

    /// An entity's contact addresses, kept by its staff (and by officials).
    pub async fn set_contacts(
        &self,
        actor: &Actor,
        entity: &str,
        email: &str,
        pec: &str,
    ) -> Result<Contacts, AppError> {
        if !(actor.may_act_for(entity) || actor.is_official()) {
            return Err(AppError::NotFound);
        }
        let clean = |s: &str| -> Result<Option<String>, AppError> {
            let s = s.trim();
            if s.is_empty() {
                return Ok(None);
            }
            if crate::accounts::email_is_valid(s) {
                Ok(Some(s.to_lowercase()))
            } else {
                Err(AppError::InvalidContact(s.to_string()))
            }
        };
        let contacts = Contacts {
            email: clean(email)?,
            pec: clean(pec)?,
        };
        self.store()
            .set_contacts(entity, &contacts, &actor.id())
            .await?;
        Ok(contacts)
    }
}
