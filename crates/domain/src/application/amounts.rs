//! The amounts an application implies: its eligible cost under the call's categories and
//! caps, and the estimate of a form still being written, computed the same way.

use std::collections::BTreeMap;

use super::{ApplicationContent, BudgetLine, MAX_LINES, Notice};
use crate::call::Call;
use crate::i18n::{Locale, Text};
use crate::money::Money;

/// The amounts of an application still being written: the lines that can be counted
/// (a category of the call, an amount above zero) go through the very computation of
/// [`ApplicationContent::validate`], so what the form shows as the person types is what
/// the submission will get.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Estimate {
    /// Every amount above zero.
    pub total_cost: Money,
    pub eligible_cost: Money,
    pub requested: Money,
    /// As in [`ValidApplication::notices`], `lines[i]` naming the content's lines.
    pub notices: Vec<Notice>,
}

pub fn estimate(content: &ApplicationContent, call: &Call) -> Estimate {
    let counted =
        |l: &BudgetLine| l.amount_cents.is_positive() && l.amount_cents <= Money::MAX_AMOUNT;
    // At most MAX_LINES × MAX_AMOUNT: far from overflowing.
    let total_cost = Money::from_cents(
        content
            .lines
            .iter()
            .filter(|l| counted(l))
            .map(|l| l.amount_cents.cents())
            .sum(),
    );
    let mut index = Vec::new();
    let mut lines = Vec::new();
    for (i, l) in content.lines.iter().enumerate().take(MAX_LINES) {
        if counted(l) && call.category(&l.category).is_some() {
            index.push(i);
            lines.push(l.clone());
        }
    }
    let kept = ApplicationContent {
        lines,
        ..ApplicationContent::default()
    };
    let (eligible_cost, mut notices) = eligible_cost(&kept, call);
    for n in &mut notices {
        if let Some(rest) = n.field.strip_prefix("lines[")
            && let Some((k, tail)) = rest.split_once(']')
            && let Some(i) = k.parse::<usize>().ok().and_then(|k| index.get(k))
        {
            n.field = format!("lines[{i}]{tail}");
        }
    }
    Estimate {
        total_cost,
        eligible_cost,
        requested: call.grant_for(eligible_cost),
        notices,
    }
}

/// The eligible cost: lines of eligible categories, with each capped category admitted up
/// to its share of the final eligible cost. With share `s` and other eligible cost `B`,
/// the admitted part `x` must satisfy `x <= s × (B + x)`, i.e. `x <= s × B / (1 − s)`.
/// Capped categories are taken in the call's order, each on the base admitted so far, so
/// each stays within its share of the final total.
pub(super) fn eligible_cost(content: &ApplicationContent, call: &Call) -> (Money, Vec<Notice>) {
    let mut notices = Vec::new();
    let mut per_category: BTreeMap<&str, i64> = BTreeMap::new();
    for (i, line) in content.lines.iter().enumerate() {
        let Some(cat) = call.category(&line.category) else {
            continue;
        };
        if cat.eligible {
            *per_category.entry(cat.code.as_str()).or_default() += line.amount_cents.cents();
        } else {
            notices.push(Notice {
                field: format!("lines[{i}]"),
                code: "category_not_eligible".into(),
                text: Text::new(
                    format!("La categoria «{}» non è ammissibile: {} non entrano nel costo ammissibile.", cat.label.it, line.amount_cents),
                    format!("The category «{}» is not eligible: {} are left out of the eligible cost.", cat.label.en, line.amount_cents.in_locale(Locale::En)),
                ),
                amount: line.amount_cents,
            });
        }
    }
    let mut base: i64 = call
        .categories
        .iter()
        .filter(|c| c.eligible && c.max_share.is_none())
        .map(|c| per_category.get(c.code.as_str()).copied().unwrap_or(0))
        .sum();
    for cat in call.categories.iter().filter(|c| c.eligible) {
        let Some(share) = cat.max_share else { continue };
        let asked = per_category.get(cat.code.as_str()).copied().unwrap_or(0);
        if asked == 0 {
            continue;
        }
        let bp = i128::from(share.bp());
        let allowed = if bp >= 10_000 {
            i128::from(asked)
        } else {
            i128::from(base) * bp / (10_000 - bp)
        };
        let admitted = i128::from(asked).min(allowed) as i64;
        if admitted < asked {
            let cut = Money::from_cents(asked - admitted);
            notices.push(Notice {
                field: format!("categories.{}", cat.code),
                code: "share_cap_exceeded".into(),
                text: Text::new(
                    format!(
                        "La categoria «{}» è ammissibile fino al {} del costo ammissibile: {} oltre il limite non sono ammissibili.",
                        cat.label.it, share, cut
                    ),
                    format!(
                        "The category «{}» is eligible up to {} of the eligible cost: {} above the cap are not eligible.",
                        cat.label.en, share, cut.in_locale(Locale::En)
                    ),
                ),
                amount: cut,
            });
        }
        base += admitted;
    }
    (Money::from_cents(base), notices)
}
