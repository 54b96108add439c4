//! `bandi review …`, `bandi calls budget`, `bandi calls publish-list`: the officials' actions
//! after the click day from the command line, for scripts and the Region's back office,
//! through the same use cases as the pages (`bandi_app::review`). Each prints the new status
//! and amounts of every application whose status changed, then one line of JSON.

use anyhow::{Context, bail};
use bandi_app::review::Which;
use bandi_app::{Actor, App};
use bandi_domain::call::CallCode;
use bandi_domain::i18n::Locale;
use bandi_domain::money::Money;
use bandi_domain::protocol::ProtocolNumber;
use bandi_domain::review::{Action, Cuts, act};
use bandi_store::{Applied, normalise_email};
use clap::{Args, Subcommand};
use serde_json::json;

#[derive(Subcommand)]
pub enum ReviewCommand {
    /// Take the application to review it (`--takeover`: from another reviewer; admins only).
    Take {
        #[command(flatten)]
        target: Target,
        #[arg(long)]
        takeover: bool,
    },
    /// Tick an item of the call's admissibility checklist.
    Check {
        #[command(flatten)]
        target: Target,
        #[arg(long)]
        item: String,
        /// `yes` or `no`.
        #[arg(long, value_parser = parse_yes_no, action = clap::ArgAction::Set)]
        passed: bool,
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Admit the application; with `--eligible-cents` or `--line`, with a reduced eligible
    /// cost first.
    Admit {
        #[command(flatten)]
        target: Target,
        #[command(flatten)]
        cuts: CutArgs,
        #[arg(long)]
        reason: String,
    },
    /// Reduce the eligible cost (the grant is recomputed by the call's rules).
    Reduce {
        #[command(flatten)]
        target: Target,
        #[command(flatten)]
        cuts: CutArgs,
        #[arg(long)]
        reason: String,
    },
    /// Reject the application (non ammessa).
    Reject {
        #[command(flatten)]
        target: Target,
        #[arg(long)]
        reason: String,
    },
    /// Record the applicant's renunciation (rinuncia).
    Withdraw {
        #[command(flatten)]
        target: Target,
        #[arg(long)]
        reason: String,
    },
    /// Record the CUP of a funded application.
    Cup {
        #[command(flatten)]
        target: Target,
        #[arg(long)]
        cup: String,
    },
}

#[derive(Args)]
pub struct Target {
    #[arg(long)]
    call: String,
    /// The protocol number, as printed on the receipt (any case, e.g. er-sw-2020/42).
    #[arg(long)]
    protocol: String,
    /// The e-mail of the official's account that acts.
    #[arg(long = "as")]
    pub(crate) as_email: String,
}

#[derive(Args, Default)]
pub struct CutArgs {
    /// The eligible cost admitted in all, in cents.
    #[arg(long, conflicts_with = "line")]
    eligible_cents: Option<i64>,
    /// `CATEGORY=CENTS` (the only line of that category) or `N=CENTS` (line N, from 1):
    /// the amount admitted of that line; repeat for several.
    #[arg(long)]
    line: Vec<String>,
}

fn parse_yes_no(s: &str) -> Result<bool, String> {
    match s {
        "yes" | "si" | "sì" | "true" => Ok(true),
        "no" | "false" => Ok(false),
        _ => Err(format!("{s:?}: yes or no")),
    }
}

/// The account behind `--as`.
pub async fn actor(app: &App, email: &str) -> anyhow::Result<Actor> {
    let (user, _) = app
        .store()
        .user_by_email(&normalise_email(email))
        .await?
        .with_context(|| format!("no account with e-mail {email}"))?;
    Ok(Actor::User(user))
}

pub(crate) async fn which(app: &App, t: &Target) -> anyhow::Result<(Which, String)> {
    let call = CallCode::parse(&t.call).map_err(anyhow::Error::msg)?;
    let protocol = ProtocolNumber::parse_lenient(&t.protocol).with_context(|| {
        format!(
            "{:?} is not a protocol number (e.g. ER-SW-2020/0000042)",
            t.protocol
        )
    })?;
    let which = Which::Protocol(protocol.clone());
    let (found, _) = app.resolve(&which).await.map_err(crate::refused)?;
    if found != call {
        bail!("{protocol} is an application of call {found}, not of {call}");
    }
    Ok((which, protocol.to_string()))
}

/// The cuts of `--eligible-cents` or `--line`, if any.
async fn cuts(app: &App, which: &Which, c: &CutArgs) -> anyhow::Result<Option<Cuts>> {
    if let Some(cents) = c.eligible_cents {
        return Ok(Some(Cuts::Total(Money::from_cents(cents))));
    }
    if c.line.is_empty() {
        return Ok(None);
    }
    let (call, seq) = app.resolve(which).await.map_err(crate::refused)?;
    let a = app
        .store()
        .under_review(call.as_str(), seq)
        .await?
        .context("no such application")?;
    let mut out = Vec::new();
    for l in &c.line {
        let (key, cents) = l
            .split_once('=')
            .with_context(|| format!("--line {l:?}: CATEGORY=CENTS or N=CENTS"))?;
        let cents: i64 = cents
            .trim()
            .parse()
            .with_context(|| format!("--line {l:?}: the amount is a whole number of cents"))?;
        let index = match key.trim().parse::<usize>() {
            Ok(n) if n >= 1 => n - 1,
            Ok(_) => bail!("--line {l:?}: lines count from 1"),
            Err(_) => {
                let of: Vec<usize> = a
                    .content
                    .lines
                    .iter()
                    .enumerate()
                    .filter(|(_, x)| x.category == key.trim())
                    .map(|(i, _)| i)
                    .collect();
                match of.as_slice() {
                    [i] => *i,
                    [] => bail!("--line {l:?}: the application has no line of category {key}"),
                    _ => bail!(
                        "--line {l:?}: the application has {} lines of category {key}: name the line by its number",
                        of.len()
                    ),
                }
            }
        };
        out.push((index, Money::from_cents(cents)));
    }
    Ok(Some(Cuts::Lines(out)))
}

/// What changed, for people and then for scripts.
pub(crate) fn report(
    action: &str,
    protocol: Option<&str>,
    applied: &Applied,
    extra: serde_json::Value,
) {
    for m in &applied.moved {
        println!(
            "{}  {} → {}  {} → {}",
            m.protocol,
            m.before.0.as_str(),
            m.after.0.as_str(),
            m.before.1.in_locale(Locale::It),
            m.after.1.in_locale(Locale::It)
        );
    }
    let mut line = json!({"ok": true, "action": action});
    if let (Some(obj), Some(changes)) = (
        line.as_object_mut(),
        bandi_app::review::changes_json(applied).as_object(),
    ) {
        obj.extend(changes.clone());
    }
    if let Some(p) = protocol {
        line["protocol"] = json!(p);
    }
    if let (Some(obj), Some(more)) = (line.as_object_mut(), extra.as_object()) {
        obj.extend(more.clone());
    }
    println!("{line}");
}

pub async fn review(app: &App, command: ReviewCommand) -> anyhow::Result<()> {
    let (name, target) = match &command {
        ReviewCommand::Take { target, .. } => ("take", target),
        ReviewCommand::Check { target, .. } => ("check", target),
        ReviewCommand::Admit { target, .. } => ("admit", target),
        ReviewCommand::Reduce { target, .. } => ("reduce", target),
        ReviewCommand::Reject { target, .. } => ("reject", target),
        ReviewCommand::Withdraw { target, .. } => ("withdraw", target),
        ReviewCommand::Cup { target, .. } => ("cup", target),
    };
    let who = actor(app, &target.as_email).await?;
    let (which, protocol) = which(app, target).await?;
    let mut applied = Vec::new();
    match &command {
        ReviewCommand::Take { takeover, .. } => applied.push(
            app.review(
                &who,
                &which,
                Action::Take {
                    takeover: *takeover,
                },
            )
            .await
            .map_err(crate::refused)?,
        ),
        ReviewCommand::Check {
            item, passed, note, ..
        } => applied.push(
            app.review(
                &who,
                &which,
                Action::Check {
                    item: item.clone(),
                    passed: *passed,
                    note: note.clone(),
                },
            )
            .await
            .map_err(crate::refused)?,
        ),
        ReviewCommand::Admit {
            cuts: c, reason, ..
        }
        | ReviewCommand::Reduce {
            cuts: c, reason, ..
        } => {
            let cut = cuts(app, &which, c).await?;
            let admit = matches!(command, ReviewCommand::Admit { .. });
            if !admit && cut.is_none() {
                bail!("reduce needs --eligible-cents or --line");
            }
            if let Some(cuts) = cut {
                applied.push(
                    app.review(
                        &who,
                        &which,
                        Action::Reduce {
                            cuts,
                            reason: reason.clone(),
                        },
                    )
                    .await
                    .map_err(crate::refused)?,
                );
            }
            if admit {
                applied.push(
                    app.review(
                        &who,
                        &which,
                        Action::Admit {
                            reason: reason.clone(),
                        },
                    )
                    .await
                    .map_err(crate::refused)?,
                );
            }
        }
        ReviewCommand::Reject { reason, .. } => applied.push(
            app.review(
                &who,
                &which,
                Action::Reject {
                    reason: reason.clone(),
                },
            )
            .await
            .map_err(crate::refused)?,
        ),
        ReviewCommand::Withdraw { reason, .. } => applied.push(
            app.review(
                &who,
                &which,
                Action::Withdraw {
                    reason: reason.clone(),
                },
            )
            .await
            .map_err(crate::refused)?,
        ),
        ReviewCommand::Cup { cup, .. } => applied.push(
            app.record_cup(&who, &which, cup)
                .await
                .map_err(crate::refused)?,
        ),
    }
    // Several steps (a reduction, then the admission): one report of all they changed.
    let all = Applied {
        entries: applied.iter().flat_map(|a| a.entries.clone()).collect(),
        moved: applied.iter().flat_map(|a| a.moved.clone()).collect(),
    };
    let (call, seq) = app.resolve(&which).await.map_err(crate::refused)?;
    let now = app
        .store()
        .under_review(call.as_str(), seq)
        .await?
        .context("the application")?;
    report(
        name,
        Some(&protocol),
        &all,
        json!({
            "review_state": now.review.state.as_str(),
            "status": now.status.as_str(),
            "requested_cents": now.requested,
            "reserved_cents": now.reserved,
        }),
    );
    Ok(())
}

pub async fn budget(
    app: &App,
    call: &str,
    add_cents: i64,
    act_number: &str,
    act_date: &str,
    as_email: &str,
) -> anyhow::Result<()> {
    let who = actor(app, as_email).await?;
    let call = CallCode::parse(call).map_err(anyhow::Error::msg)?;
    let act = act(act_number, act_date, None).map_err(|e| anyhow::anyhow!("{}", e.text().en))?;
    let applied = app
        .change_budget(&who, &call, Money::from_cents(add_cents), act)
        .await
        .map_err(crate::refused)?;
    let stored = app.store().call(call.as_str()).await?.context("the call")?;
    report(
        "budget",
        None,
        &applied,
        json!({"call": call.as_str(), "budget_cents": stored.budget, "reserved_cents": stored.reserved, "remaining_cents": stored.remaining()}),
    );
    Ok(())
}

pub async fn publish_list(
    app: &App,
    call: &str,
    act_number: &str,
    act_date: &str,
    act_file: Option<&std::path::Path>,
    as_email: &str,
) -> anyhow::Result<()> {
    let who = actor(app, as_email).await?;
    let call = CallCode::parse(call).map_err(anyhow::Error::msg)?;
    let document = match act_file {
        Some(p) => {
            let bytes = std::fs::read(p).with_context(|| format!("cannot read {}", p.display()))?;
            let name = p.file_name().map(|n| n.to_string_lossy().into_owned());
            Some(bandi_app::drafts::Upload::from_bytes(
                "act",
                name.as_deref().unwrap_or_default(),
                bytes,
            ))
        }
        None => None,
    };
    let (applied, version) = app
        .publish_list(&who, &call, act_number, act_date, document)
        .await
        .map_err(crate::refused)?;
    println!("list of {call} published: version {version}");
    report(
        "publish_list",
        None,
        &applied,
        json!({"call": call.as_str(), "version": version}),
    );
    Ok(())
}
