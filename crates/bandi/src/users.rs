//! `bandi users add|disable|enable|set-password`: creates an account of a person who signs
//! in to the web pages (the officials create the others from `/amministrazione/utenti`), with
//! the same rules, and
//! disables, enables or gives a new password to one, through the same use cases as the page.
//! The password comes from standard input, never from the command line (which other
//! users of the machine can read in the process list).

use std::io::BufRead;

use anyhow::{Context, bail};
use bandi_app::accounts::NewAccount;
use bandi_app::{Actor, App, AppError};
use bandi_store::User;

/// The first line of `input`, without its line ending.
pub fn read_password(mut input: impl BufRead) -> anyhow::Result<String> {
    let mut line = String::new();
    input
        .read_line(&mut line)
        .context("cannot read the password from standard input")?;
    let password = line.trim_end_matches(['\n', '\r']).to_string();
    if password.is_empty() {
        bail!("no password on standard input (give it as the first line)");
    }
    Ok(password)
}

/// Creates the account and binds it to `entities`; nothing is created if anything is wrong.
pub async fn add_user(app: &App, new: NewAccount) -> anyhow::Result<User> {
    match app.create_account(&Actor::Operator, new).await {
        Ok(user) => {
            eprintln!(
                "account {} ({}) created{}{}",
                user.email,
                user.role.as_str(),
                match &user.fiscal_code {
                    Some(code) => format!(", signing in with SPID/CIE as {code}"),
                    None => String::new(),
                },
                if user.entities.is_empty() {
                    String::new()
                } else {
                    format!(", acting for {}", user.entities.join(", "))
                }
            );
            Ok(user)
        }
        Err(AppError::InvalidAccount(problems)) => bail!("nothing created: {problems}"),
        Err(e) => Err(crate::refused(e)),
    }
}

/// `users disable|enable`: through the same use case as the officials' page.
pub async fn set_disabled(app: &App, email: &str, disabled: bool) -> anyhow::Result<()> {
    let user = app
        .account_by_email(&Actor::Operator, email)
        .await
        .map_err(crate::refused)?;
    app.set_account_disabled(&Actor::Operator, &user.id, disabled)
        .await
        .map_err(crate::refused)?;
    println!(
        "account {} {}",
        user.email,
        if disabled { "disabled" } else { "enabled" }
    );
    Ok(())
}

/// `users set-password`: a new password for a forgotten one; nothing changes if it breaks
/// the rule.
pub async fn set_password(app: &App, email: &str, password: &str) -> anyhow::Result<()> {
    let user = app
        .account_by_email(&Actor::Operator, email)
        .await
        .map_err(crate::refused)?;
    match app
        .reset_password(&Actor::Operator, &user.id, password)
        .await
    {
        Ok(()) => {
            println!(
                "account {}: new password set, its sessions ended",
                user.email
            );
            Ok(())
        }
        Err(AppError::InvalidAccount(problems)) => bail!("nothing changed: {problems}"),
        Err(e) => Err(crate::refused(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_is_the_first_line() {
        assert_eq!(
            read_password(&b"secret words\nnext"[..]).unwrap(),
            "secret words"
        );
        assert_eq!(read_password(&b"crlf\r\n"[..]).unwrap(), "crlf");
        assert!(read_password(&b"\n"[..]).is_err());
        assert!(read_password(&b""[..]).is_err());
    }
}
