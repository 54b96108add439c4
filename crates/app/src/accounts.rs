//! Accounts, with the same rules wherever one is made: the officials' page, `bandi users
//! add`, the demo. Passwords are hashed in the pool ([`crate::passwords`]).

use bandi_domain::account::{FiscalCode, Role};
use bandi_domain::i18n::{FieldError, Locale, Text};
use bandi_domain::text::strip_format_chars;
use bandi_store::{StoreError, User, normalise_email};

use crate::{Actor, App, AppError};

/// Shortest password a new account may have.
pub const MIN_PASSWORD_CHARS: usize = 12;
pub const MAX_PASSWORD_CHARS: usize = 1024;
pub const MAX_NAME_CHARS: usize = 200;

/// What is wrong with a new account, field by field.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct AccountProblems {
    pub email: Option<Text>,
    pub name: Option<Text>,
    pub role: Option<Text>,
    pub password: Option<Text>,
    pub entities: Option<Text>,
    pub fiscal_code: Option<Text>,
}

impl AccountProblems {
    pub fn is_empty(&self) -> bool {
        self.field_errors().is_empty()
    }

    fn fields(&self) -> [(&'static str, &Option<Text>); 6] {
        [
            ("email", &self.email),
            ("name", &self.name),
            ("role", &self.role),
            ("fiscal_code", &self.fiscal_code),
            ("password", &self.password),
            ("entities", &self.entities),
        ]
    }

    /// Every problem, in the order of the form.
    pub fn messages(&self, locale: Locale) -> Vec<String> {
        self.fields()
            .into_iter()
            .filter_map(|(_, t)| t.as_ref().map(|t| t.get(locale).to_string()))
            .collect()
    }

    pub fn field_errors(&self) -> Vec<FieldError> {
        self.fields()
            .into_iter()
            .filter_map(|(f, t)| {
                t.as_ref()
                    .map(|t| FieldError::new(f, "invalid", t.it.clone(), t.en.clone()))
            })
            .collect()
    }
}

impl std::fmt::Display for AccountProblems {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.messages(Locale::En).join(" "))
    }
}

/// A new account as typed. `role` is `None` when none (or no known one) was chosen. With
/// a fiscal code its person signs in with SPID or CIE, and the password may stay empty
/// (no password then opens the account).
#[derive(Debug, Clone, Default)]
pub struct NewAccount {
    pub email: String,
    pub name: String,
    pub role: Option<Role>,
    pub password: String,
    pub entities: Vec<String>,
    pub fiscal_code: String,
}

impl NewAccount {
    /// The fiscal code as typed, read; None when empty or not a fiscal code.
    fn fiscal_code(&self) -> Option<FiscalCode> {
        FiscalCode::parse(&self.fiscal_code)
    }
}

/// Entity codes separated by commas, semicolons or spaces.
pub fn entity_codes(s: &str) -> Vec<String> {
    s.split([',', ';', ' ', '\n', '\t'])
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_string)
        .collect()
}

/// What is wrong with a new password, if anything: the one rule of every password set here.
pub(crate) fn password_problem(password: &str) -> Option<Text> {
    let chars = password.chars().count();
    (!(MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&chars)).then(|| {
        Text::new(
            format!("La password deve avere almeno {MIN_PASSWORD_CHARS} caratteri."),
            format!("The password must have at least {MIN_PASSWORD_CHARS} characters."),
        )
    })
}

fn fiscal_code_taken(code: &FiscalCode) -> Text {
    Text::new(
        format!("Il codice fiscale {code} è già associato a un altro account."),
        format!("The fiscal code {code} is already bound to another account."),
    )
}

pub(crate) fn email_is_valid(e: &str) -> bool {
    e.len() <= 254
        && e.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !domain.starts_with('.')
        })
        && !e
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || bandi_domain::text::is_format_char(c))
}

/// A person's name as kept: trimmed, without format characters.
pub fn clean_name(name: &str) -> String {
    strip_format_chars(name.trim()).trim().to_string()
}

impl App {
    /// Checks a new account against the rules and the database.
    pub async fn check_account(&self, new: &NewAccount) -> Result<AccountProblems, AppError> {
        let store = self.store();
        let mut p = AccountProblems::default();
        let email = new.email.trim();
        if !email_is_valid(email) {
            p.email = Some(Text::new(
                "Indirizzo e-mail non valido.",
                "Invalid e-mail address.",
            ));
        } else if store.user_by_email(email).await?.is_some() {
            p.email = Some(
                AppError::EmailTaken {
                    email: normalise_email(email),
                }
                .text(),
            );
        }
        let name = clean_name(&new.name);
        if name.is_empty()
            || name.chars().count() > MAX_NAME_CHARS
            || name.chars().any(char::is_control)
        {
            p.name = Some(Text::new(
                "Indicare nome e cognome (al massimo 200 caratteri).",
                "Enter the full name (at most 200 characters).",
            ));
        }
        if new.role.is_none() {
            p.role = Some(Text::new(
                "Scegliere il profilo: amministrazione, istruttoria o ente locale.",
                "Choose the role: administration, review or local authority.",
            ));
        }
        let typed_code = !new.fiscal_code.trim().is_empty();
        match new.fiscal_code() {
            None if typed_code => {
                p.fiscal_code = Some(Text::new(
                    "Codice fiscale non valido: sedici caratteri, l'ultimo di controllo.",
                    "Invalid fiscal code: sixteen characters, the last a check letter.",
                ));
            }
            Some(code) if store.user_by_fiscal_code(&code).await?.is_some() => {
                p.fiscal_code = Some(fiscal_code_taken(&code));
            }
            _ => {}
        }
        // With a fiscal code (SPID/CIE) the password is optional; when given, the rule.
        if !(typed_code && new.password.is_empty()) {
            p.password = password_problem(&new.password);
        }
        let mut unknown = Vec::new();
        for code in &new.entities {
            if code.len() > 40 || store.entity(code).await?.is_none() {
                unknown.push(code.clone());
            }
        }
        if !unknown.is_empty() {
            let list = unknown.join(", ");
            p.entities = Some(Text::new(
                format!("Enti inesistenti: {list}."),
                format!("Unknown bodies: {list}."),
            ));
        } else if new.role == Some(Role::Applicant) && new.entities.is_empty() {
            p.entities = Some(Text::new(
                "Indicare almeno un ente per cui l'account opera.",
                "Enter at least one body the account acts for.",
            ));
        }
        Ok(p)
    }

    /// Creates the account and binds it to its entities, or says what is wrong (and
    /// creates nothing). Only an official with the admin role, or the command line.
    pub async fn create_account(&self, actor: &Actor, new: NewAccount) -> Result<User, AppError> {
        actor.require(Role::Admin)?;
        let problems = self.check_account(&new).await?;
        let Some(role) = new.role.filter(|_| problems.is_empty()) else {
            return Err(AppError::InvalidAccount(Box::new(problems)));
        };
        // No password (a SPID/CIE account): an empty hash, which no password matches.
        let hash = match new.password.is_empty() {
            true => String::new(),
            false => self.passwords().hash(&new.password).await?,
        };
        let store = self.store();
        let fiscal_code = new.fiscal_code();
        let mut user = store
            .create_user_bound(
                new.email.trim(),
                &clean_name(&new.name),
                &hash,
                role,
                fiscal_code.as_ref(),
            )
            .await
            .map_err(|e| match e {
                StoreError::EmailTaken { email } => AppError::EmailTaken { email },
                StoreError::FiscalCodeTaken { .. } => {
                    AppError::InvalidAccount(Box::new(AccountProblems {
                        fiscal_code: fiscal_code.as_ref().map(fiscal_code_taken),
                        ..AccountProblems::default()
                    }))
                }
                other => other.into(),
            })?;
        for code in &new.entities {
            store.bind_entity(&user.id, code).await?;
        }
        user.entities = new.entities.clone();
        user.entities.sort();
        user.entities.dedup();
        tracing::info!(user = %user.id, by = %actor, role = role.as_str(), "account created");
        Ok(user)
    }

    /// The account with this e-mail, created if missing, with this password and bound to
    /// these entities: the demo's accounts, whose passwords change at every start.
    pub async fn ensure_account(
        &self,
        email: &str,
        name: &str,
        role: Role,
        password: &str,
        entities: &[&str],
    ) -> Result<User, AppError> {
        let store = self.store();
        let hash = self.passwords().hash(password).await?;
        let user = match store.user_by_email(&normalise_email(email)).await? {
            Some((user, _)) => {
                store.set_password_hash(&user.id, &hash).await?;
                user
            }
            None => store.create_user(email, name, &hash, role).await?,
        };
        for code in entities {
            store.bind_entity(&user.id, code).await?;
        }
        Ok(store.user(&user.id).await?.unwrap_or(user))
    }

    /// The entity an official means by what was typed or picked: its code, its name (any
    /// case), or "Name (code)" as the pages' list offers it. None when nothing matches or
    /// the name is ambiguous.
    pub async fn find_entity(&self, typed: &str) -> Result<Option<String>, AppError> {
        let typed = typed.trim();
        if typed.is_empty() || typed.len() > 200 {
            return Ok(None);
        }
        let store = self.store();
        if typed.len() <= 40 && store.entity(typed).await?.is_some() {
            return Ok(Some(typed.to_string()));
        }
        if let Some(inner) = typed
            .strip_suffix(')')
            .and_then(|t| t.rsplit_once(" ("))
            .map(|(_, code)| code)
            && inner.len() <= 40
            && store.entity(inner).await?.is_some()
        {
            return Ok(Some(inner.to_string()));
        }
        let wanted = typed.to_lowercase();
        let mut found = store
            .entity_names()
            .await?
            .into_iter()
            .filter(|(_, name)| name.to_lowercase() == wanted);
        Ok(match (found.next(), found.next()) {
            (Some((code, _)), None) => Some(code),
            _ => None,
        })
    }

    /// Disables an account (it cannot sign in, its sessions end) or enables it again;
    /// admins only, never their own.
    pub async fn set_account_disabled(
        &self,
        actor: &Actor,
        user_id: &str,
        disabled: bool,
    ) -> Result<User, AppError> {
        actor.require(Role::Admin)?;
        if let Actor::User(me) = actor
            && me.id == user_id
            && disabled
        {
            return Err(AppError::OwnAccount);
        }
        let store = self.store();
        if user_id.len() > 64 || store.user(user_id).await?.is_none() {
            return Err(AppError::NotFound);
        }
        store.set_disabled(user_id, disabled).await?;
        tracing::info!(user = user_id, disabled, by = %actor, "account disabled or enabled");
        store.user(user_id).await?.ok_or(AppError::NotFound)
    }

    /// A person changes their own password, giving the current one; the new one follows
    /// the rule of new accounts. Their other sessions end (`session_csrf` names the one
    /// that stays).
    pub async fn change_own_password(
        &self,
        user: &User,
        session_csrf: &str,
        current: &str,
        new: &str,
    ) -> Result<(), AppError> {
        let store = self.store();
        let phc = store.user_by_email(&user.email).await?.map(|(_, h)| h);
        if !self.passwords().verify(current, phc.as_deref()).await? {
            return Err(AppError::WrongCredentials);
        }
        let ended = self
            .replace_password(&user.id, new, Some(session_csrf))
            .await?;
        tracing::info!(user = %user.id, other_sessions_ended = ended, "password changed");
        Ok(())
    }

    /// Sets `new` as the account's password if it follows the rule, and ends its sessions
    /// but `keep` (by its CSRF token); how many ended.
    pub(crate) async fn replace_password(
        &self,
        user_id: &str,
        new: &str,
        keep: Option<&str>,
    ) -> Result<u64, AppError> {
        if let Some(problem) = password_problem(new) {
            return Err(AppError::InvalidAccount(Box::new(AccountProblems {
                password: Some(problem),
                ..AccountProblems::default()
            })));
        }
        let hash = self.passwords().hash(new).await?;
        let store = self.store();
        store.set_password_hash(user_id, &hash).await?;
        Ok(store.end_sessions(user_id, keep).await?)
    }

    /// The account with this e-mail, for an admin or the operator.
    pub async fn account_by_email(&self, actor: &Actor, email: &str) -> Result<User, AppError> {
        actor.require(Role::Admin)?;
        let email = normalise_email(email);
        if email.len() > 254 {
            return Err(AppError::NotFound);
        }
        match self.store().user_by_email(&email).await? {
            Some((user, _)) => Ok(user),
            None => Err(AppError::NotFound),
        }
    }

    /// An admin (or the operator) gives an account a new password, as when its owner forgot
    /// theirs: the rule of new accounts; every session of the account ends.
    pub async fn reset_password(
        &self,
        actor: &Actor,
        user_id: &str,
        new: &str,
    ) -> Result<(), AppError> {
        actor.require(Role::Admin)?;
        let user = self
            .store()
            .user(user_id)
            .await?
            .ok_or(AppError::NotFound)?;
        let ended = self.replace_password(&user.id, new, None).await?;
        tracing::info!(user = %user.id, by = %actor, sessions_ended = ended, "password reset");
        Ok(())
    }

    /// Lets an account act for an entity (admins only).
    pub async fn bind_entity(
        &self,
        actor: &Actor,
        user_id: &str,
        entity: &str,
    ) -> Result<User, AppError> {
        actor.require(Role::Admin)?;
        let store = self.store();
        let user = store.user(user_id).await?.ok_or(AppError::NotFound)?;
        if entity.len() > 40 || store.entity(entity).await?.is_none() {
            return Err(AppError::InvalidAccount(Box::new(AccountProblems {
                entities: Some(Text::new(
                    format!("Ente inesistente: {entity}."),
                    format!("Unknown body: {entity}."),
                )),
                ..AccountProblems::default()
            })));
        }
        store.bind_entity(&user.id, entity).await?;
        tracing::info!(user = %user.id, entity, by = %actor, "entity bound");
        Ok(store.user(&user.id).await?.unwrap_or(user))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_addresses() {
        assert_eq!(
            entity_codes("039007, ucdc;x\ny"),
            vec!["039007", "ucdc", "x", "y"]
        );
        assert!(entity_codes(" , ").is_empty());
        assert!(email_is_valid("a@b.it"));
        assert!(!email_is_valid("a@b"));
        assert!(!email_is_valid("a b@c.it"));
        assert!(!email_is_valid("@c.it"));
        assert!(!email_is_valid("a\u{202E}@b.it"));
        assert_eq!(clean_name(" Anna\u{200B} Rossi "), "Anna Rossi");
    }
}
