//! Creating accounts, with the same rules wherever it happens: the officials' page
//! (`/amministrazione/utenti`), the `bandi users add` command and the demo.

use bandi_domain::i18n::{Locale, Text};
use bandi_store::{Role, Store, StoreError, User, normalise_email};

use crate::auth::hash_password;

/// Shortest password a new account may have.
pub const MIN_PASSWORD_CHARS: usize = 12;
pub const MAX_PASSWORD_CHARS: usize = 1024;

/// What is wrong with a new account, field by field.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct AccountProblems {
    pub email: Option<Text>,
    pub name: Option<Text>,
    pub role: Option<Text>,
    pub password: Option<Text>,
    pub entities: Option<Text>,
}

impl AccountProblems {
    pub fn is_empty(&self) -> bool {
        self.email.is_none()
            && self.name.is_none()
            && self.role.is_none()
            && self.password.is_none()
            && self.entities.is_none()
    }

    /// Every problem, in the order of the form.
    pub fn messages(&self, locale: Locale) -> Vec<String> {
        [
            &self.email,
            &self.name,
            &self.role,
            &self.password,
            &self.entities,
        ]
        .into_iter()
        .flatten()
        .map(|t| t.get(locale).to_string())
        .collect()
    }
}

impl std::fmt::Display for AccountProblems {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.messages(Locale::En).join(" "))
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

fn email_is_valid(e: &str) -> bool {
    e.len() <= 254
        && e.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !domain.starts_with('.')
        })
        && !e.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// Checks a new account against the rules and the database.
pub async fn check(
    store: &Store,
    email: &str,
    name: &str,
    role: &str,
    password: &str,
    entities: &[String],
) -> Result<(Option<Role>, AccountProblems), StoreError> {
    let mut p = AccountProblems::default();
    let email = email.trim();
    if !email_is_valid(email) {
        p.email = Some(Text::new(
            "Indirizzo e-mail non valido.",
            "Invalid e-mail address.",
        ));
    } else if store.user_by_email(email).await?.is_some() {
        p.email = Some(Text::new(
            "Esiste già un account con questo indirizzo.",
            "An account with this address exists.",
        ));
    }
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 || name.chars().any(char::is_control) {
        p.name = Some(Text::new(
            "Indicare nome e cognome (al massimo 200 caratteri).",
            "Enter the full name (at most 200 characters).",
        ));
    }
    let role = Role::parse(role.trim());
    if role.is_none() {
        p.role = Some(Text::new(
            "Scegliere il profilo: admin o applicant.",
            "Choose the role: admin or applicant.",
        ));
    }
    let chars = password.chars().count();
    if !(MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&chars) {
        p.password = Some(Text::new(
            format!("La password deve avere almeno {MIN_PASSWORD_CHARS} caratteri."),
            format!("The password must have at least {MIN_PASSWORD_CHARS} characters."),
        ));
    }
    let mut unknown = Vec::new();
    for code in entities {
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
    } else if role == Some(Role::Applicant) && entities.is_empty() {
        p.entities = Some(Text::new(
            "Indicare almeno un ente per cui l'account opera.",
            "Enter at least one body the account acts for.",
        ));
    }
    Ok((role, p))
}

/// Creates the account and binds it to its entities, or says what is wrong (and
/// creates nothing).
pub async fn create(
    store: &Store,
    email: &str,
    name: &str,
    role: &str,
    password: &str,
    entities: &[String],
) -> Result<Result<User, AccountProblems>, StoreError> {
    let (role, problems) = check(store, email, name, role, password, entities).await?;
    let (Some(role), true) = (role, problems.is_empty()) else {
        return Ok(Err(problems));
    };
    let mut user = store
        .create_user(email.trim(), name.trim(), &hash_password(password), role)
        .await?;
    for code in entities {
        store.bind_entity(&user.id, code).await?;
    }
    user.entities = entities.to_vec();
    user.entities.sort();
    user.entities.dedup();
    Ok(Ok(user))
}

/// The account with this e-mail, created if missing, with this password and bound to
/// these entities: the demo's accounts, whose passwords change at every start.
pub async fn ensure(
    store: &Store,
    email: &str,
    name: &str,
    role: Role,
    password: &str,
    entities: &[&str],
) -> Result<User, StoreError> {
    let hash = hash_password(password);
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
    }
}
