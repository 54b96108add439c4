//! `bandi reports …`, `bandi payments record`, `bandi awards revoke|extend`: after the award,
//! from the command line, through the same use cases as the pages (`bandi_app::reports`).
//! Each prints what changed, then one line of JSON.

use bandi_app::App;
use bandi_domain::money::Money;
use bandi_domain::report::verification::{ExpenseOutcome, PaymentKind};
use bandi_domain::review::act;
use clap::Subcommand;
use serde_json::json;

use crate::decisions::{Target, actor, report, which};

#[derive(Subcommand)]
pub enum ReportsCommand {
    /// A finding on one expense of the submitted report.
    Verify {
        #[command(flatten)]
        target: Target,
        /// The expense, counted from 1 as the report lists them.
        #[arg(long)]
        line: usize,
        #[arg(long, value_parser = parse_outcome)]
        outcome: ExpenseOutcome,
        /// For `partial`: the amount accepted, in cents.
        #[arg(long)]
        accepted_cents: Option<i64>,
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// Close the verification: the final grant; what it does not confirm goes back.
    Close {
        #[command(flatten)]
        target: Target,
    },
    /// Give the report back to its authority for an integration.
    Return {
        #[command(flatten)]
        target: Target,
        #[arg(long)]
        reason: String,
    },
}

#[derive(Subcommand)]
pub enum PaymentsCommand {
    /// Record a payment ordered by an act.
    Record {
        #[command(flatten)]
        target: Target,
        /// `advance` or `balance`.
        #[arg(long, value_parser = parse_kind, default_value = "balance")]
        kind: PaymentKind,
        #[arg(long)]
        amount_cents: i64,
        /// `YYYY-MM-DD`.
        #[arg(long)]
        paid_on: String,
        #[arg(long)]
        act: String,
        #[arg(long)]
        act_date: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum AwardsCommand {
    /// Take an award back by an act.
    Revoke {
        #[command(flatten)]
        target: Target,
        #[arg(long)]
        reason: String,
        #[arg(long)]
        act: String,
        #[arg(long)]
        act_date: Option<String>,
    },
    /// Extend the report's deadline for one application.
    Extend {
        #[command(flatten)]
        target: Target,
        /// The new last day, `YYYY-MM-DD`.
        #[arg(long)]
        until: String,
        #[arg(long)]
        reason: String,
    },
}

fn parse_outcome(s: &str) -> Result<ExpenseOutcome, String> {
    ExpenseOutcome::parse(s).ok_or_else(|| format!("{s:?}: accepted, partial or refused"))
}

fn parse_kind(s: &str) -> Result<PaymentKind, String> {
    PaymentKind::parse(s).ok_or_else(|| format!("{s:?}: advance or balance"))
}

/// What a report's action leaves: its state and amounts.
async fn standing(app: &App, w: &bandi_app::review::Which) -> anyhow::Result<serde_json::Value> {
    let (call, seq) = app.resolve(w).await.map_err(crate::refused)?;
    let r = app.store().report(call.as_str(), seq).await?;
    let paid = app
        .store()
        .payments(call.as_str(), seq)
        .await?
        .iter()
        .fold(Money::ZERO, |a, p| a.checked_add(p.amount).unwrap_or(a));
    Ok(json!({
        "report_state": r.as_ref().map(|r| r.state.as_str()),
        "final_grant_cents": r.as_ref().and_then(|r| r.final_grant),
        "paid_cents": paid,
    }))
}

pub async fn reports(app: &App, command: ReportsCommand) -> anyhow::Result<()> {
    let (name, target) = match &command {
        ReportsCommand::Verify { target, .. } => ("verify_expense", target),
        ReportsCommand::Close { target } => ("close_verification", target),
        ReportsCommand::Return { target, .. } => ("return_report", target),
    };
    let who = actor(app, &target.as_email).await?;
    let (w, protocol) = which(app, target).await?;
    let applied = match &command {
        ReportsCommand::Verify {
            line,
            outcome,
            accepted_cents,
            reason,
            ..
        } => {
            let line = line
                .checked_sub(1)
                .ok_or_else(|| anyhow::anyhow!("--line counts from 1"))?;
            app.check_report_expense(
                &who,
                &w,
                line,
                *outcome,
                accepted_cents.map(Money::from_cents),
                reason,
            )
            .await
        }
        ReportsCommand::Close { .. } => app.close_verification(&who, &w).await,
        ReportsCommand::Return { reason, .. } => app.return_report(&who, &w, reason).await,
    }
    .map_err(crate::refused)?;
    report(name, Some(&protocol), &applied, standing(app, &w).await?);
    Ok(())
}

pub async fn payments(app: &App, command: PaymentsCommand) -> anyhow::Result<()> {
    let PaymentsCommand::Record {
        target,
        kind,
        amount_cents,
        paid_on,
        act: number,
        act_date,
    } = command;
    let who = actor(app, &target.as_email).await?;
    let (w, protocol) = which(app, &target).await?;
    let date = act_date.unwrap_or_else(crate::today);
    let act = act(&number, &date, None).map_err(|e| anyhow::anyhow!("{}", e.text().en))?;
    let applied = app
        .record_payment(
            &who,
            &w,
            kind,
            Money::from_cents(amount_cents),
            &paid_on,
            act,
        )
        .await
        .map_err(crate::refused)?;
    report(
        "record_payment",
        Some(&protocol),
        &applied,
        standing(app, &w).await?,
    );
    Ok(())
}

pub async fn awards(app: &App, command: AwardsCommand) -> anyhow::Result<()> {
    match command {
        AwardsCommand::Revoke {
            target,
            reason,
            act: number,
            act_date,
        } => {
            let who = actor(app, &target.as_email).await?;
            let (w, protocol) = which(app, &target).await?;
            let date = act_date.unwrap_or_else(crate::today);
            let act = act(&number, &date, None).map_err(|e| anyhow::anyhow!("{}", e.text().en))?;
            let applied = app
                .revoke_award(&who, &w, &reason, act)
                .await
                .map_err(crate::refused)?;
            report(
                "revoke_award",
                Some(&protocol),
                &applied,
                standing(app, &w).await?,
            );
        }
        AwardsCommand::Extend {
            target,
            until,
            reason,
        } => {
            let who = actor(app, &target.as_email).await?;
            let (w, protocol) = which(app, &target).await?;
            let applied = app
                .extend_report_deadline(&who, &w, &until, &reason)
                .await
                .map_err(crate::refused)?;
            report(
                "extend_report_deadline",
                Some(&protocol),
                &applied,
                json!({"until": until}),
            );
        }
    }
    Ok(())
}
