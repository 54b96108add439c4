//! The use cases of `bandi`, each written once. The JSON API, the pages, the command line
//! and the demo call these; none of them changes the store on its own. A use case takes
//! typed values and the [`Actor`] doing it, checks who may, applies the rules, and answers
//! with [`AppError`] (stable codes) when it refuses.
//!
//! Where things are: [`intake`] (submitting an application), [`drafts`] (the draft and its
//! documents), [`calls`] (publishing calls, the registry, API tokens), [`accounts`] and
//! [`sign_in`] (people and sessions), [`passwords`] (hashing off the async workers).

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use bandi_domain::account::Role;
use bandi_store::intake::Intake;
use bandi_store::{Store, User};

pub mod accounts;
pub mod calls;
pub mod drafts;
pub mod error;
pub mod intake;
pub mod memo;
pub mod outbox;
pub mod password_reset;
pub mod passwords;
pub mod practices;
pub mod proofs;
pub mod reports;
pub mod review;
pub mod services;
pub mod sign_in;

pub use error::{AppError, Kind};
pub use passwords::Passwords;

/// Who does something.
#[derive(Debug, Clone)]
pub enum Actor {
    /// A person signed in.
    User(User),
    /// An API token, which acts for one entity.
    Entity(String),
    /// The command line, run by whoever operates the platform: every role.
    Operator,
}

impl Actor {
    /// Only `role` (an admin may do what a reviewer does) goes on.
    pub fn require(&self, role: Role) -> Result<(), AppError> {
        let ok = match self {
            Actor::Operator => true,
            Actor::User(u) => {
                !u.disabled && (u.role == role || (role == Role::Reviewer && u.role == Role::Admin))
            }
            Actor::Entity(_) => false,
        };
        if ok { Ok(()) } else { Err(AppError::Forbidden) }
    }

    /// Whether this actor may act for `entity` (draft, submit, report).
    pub fn may_act_for(&self, entity: &str) -> bool {
        match self {
            Actor::Operator => true,
            Actor::User(u) => u.role == Role::Applicant && !u.disabled && u.acts_for(entity),
            Actor::Entity(e) => e == entity,
        }
    }

    /// An official of the region (admin or reviewer).
    pub fn is_official(&self) -> bool {
        match self {
            Actor::Operator => true,
            Actor::User(u) => u.role.is_official() && !u.disabled,
            Actor::Entity(_) => false,
        }
    }

    /// What the records say did it: an account's id, an entity's token, the command line.
    pub fn id(&self) -> String {
        match self {
            Actor::User(u) => u.id.clone(),
            Actor::Entity(e) => format!("token:{e}"),
            Actor::Operator => "cli".into(),
        }
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.id())
    }
}

/// The use cases, over one store and its intake. Cheap to clone.
#[derive(Clone)]
pub struct App {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    intake: Intake,
    passwords: Passwords,
    purged: EveryMinute,
    /// The funded projects the practices' search also finds.
    projects: memo::Memo<Vec<practices::IndexedProject>>,
}

impl App {
    pub fn new(store: Store, intake: Intake) -> App {
        App::with_passwords(store, intake, Passwords::default())
    }

    pub fn with_passwords(store: Store, intake: Intake, passwords: Passwords) -> App {
        App {
            inner: Arc::new(Inner {
                store,
                intake,
                passwords,
                purged: EveryMinute::default(),
                projects: memo::Memo::default(),
            }),
        }
    }

    /// The store, for what the interfaces only read (pages, lists, exports).
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    pub fn intake(&self) -> &Intake {
        &self.inner.intake
    }

    pub fn passwords(&self) -> &Passwords {
        &self.inner.passwords
    }
}

/// Lets one caller in a minute through: housekeeping that every node does now and then.
#[derive(Default)]
struct EveryMinute {
    last_us: AtomicI64,
}

impl EveryMinute {
    fn should_run(&self) -> bool {
        let now = jiff::Timestamp::now().as_microsecond();
        let last = self.last_us.load(Ordering::Relaxed);
        now - last > 60_000_000
            && self
                .last_us
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
    }
}
