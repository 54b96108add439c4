//! A call written back as its file: what the officials' form starts from and edits, and
//! what [`Call::from_toml`] reads back into the same call.

use toml::{Table, Value};

use super::Call;
use crate::i18n::Text;

fn datetime(s: &str) -> Value {
    // The strings built below always have the TOML datetime shape.
    Value::Datetime(s.parse().expect("a TOML datetime"))
}

fn labelled(t: &mut Table, label: &Text) {
    t.insert("label".into(), label.it.clone().into());
    t.insert("label_en".into(), label.en.clone().into());
}

impl Call {
    /// The call file of this call (dates in its own time zone, amounts and rates as the
    /// file writes them, its text with its date placeholders).
    pub fn to_toml(&self) -> String {
        let local = |t: jiff::Timestamp| {
            datetime(
                &t.to_zoned_datetime(self.tz())
                    .strftime("%Y-%m-%dT%H:%M:%S")
                    .to_string(),
            )
        };
        let mut f = Table::new();
        f.insert("code".into(), self.code.as_str().into());
        f.insert(
            "protocol_prefix".into(),
            self.protocol_prefix.clone().into(),
        );
        f.insert("title".into(), self.title.it.clone().into());
        f.insert("title_en".into(), self.title.en.clone().into());
        f.insert("text".into(), self.text.it.clone().into());
        f.insert("text_en".into(), self.text.en.clone().into());
        f.insert("time_zone".into(), self.time_zone.clone().into());
        f.insert("opens_at".into(), local(self.opens_at));
        f.insert("closes_at".into(), local(self.closes_at));
        f.insert("budget".into(), self.budget.to_plain().into());
        f.insert("co_financing".into(), self.rate.to_string().into());
        for (key, amount) in [
            ("min_cost", self.min_cost),
            ("max_cost", self.max_cost),
            ("max_grant", self.max_grant),
        ] {
            if let Some(m) = amount {
                f.insert(key.into(), m.to_plain().into());
            }
        }
        f.insert(
            "applications_per_entity".into(),
            i64::from(self.applications_per_entity).into(),
        );
        f.insert("when_not_fits".into(), self.when_not_fits.as_str().into());
        for (key, date) in [
            ("completion_deadline", self.completion_deadline),
            ("reporting_deadline", self.reporting_deadline),
        ] {
            if let Some(d) = date {
                f.insert(key.into(), datetime(&d.to_string()));
            }
        }
        if let Some(a) = self.advance {
            f.insert("advance".into(), a.to_string().into());
        }
        let mut eligibility = Table::new();
        eligibility.insert(
            "kinds".into(),
            Value::Array(
                self.eligible_kinds
                    .iter()
                    .map(|k| k.as_str().into())
                    .collect(),
            ),
        );
        eligibility.insert(
            "regions".into(),
            Value::Array(
                self.eligible_regions
                    .iter()
                    .map(|r| r.clone().into())
                    .collect(),
            ),
        );
        f.insert("eligibility".into(), eligibility.into());
        let tables = |rows: Vec<Table>| Value::Array(rows.into_iter().map(Value::Table).collect());
        f.insert(
            "categories".into(),
            tables(
                self.categories
                    .iter()
                    .map(|c| {
                        let mut t = Table::new();
                        t.insert("code".into(), c.code.clone().into());
                        labelled(&mut t, &c.label);
                        t.insert("eligible".into(), c.eligible.into());
                        if let Some(s) = c.max_share {
                            t.insert("max_share".into(), s.to_string().into());
                        }
                        t
                    })
                    .collect(),
            ),
        );
        f.insert(
            "attachments".into(),
            tables(
                self.attachments
                    .iter()
                    .map(|a| {
                        let mut t = Table::new();
                        t.insert("code".into(), a.code.clone().into());
                        labelled(&mut t, &a.label);
                        t.insert("required".into(), a.required.into());
                        t
                    })
                    .collect(),
            ),
        );
        f.insert(
            "indicators".into(),
            tables(
                self.indicators
                    .iter()
                    .map(|i| {
                        let mut t = Table::new();
                        t.insert("code".into(), i.code.clone().into());
                        labelled(&mut t, &i.label);
                        t.insert("kind".into(), i.kind.as_str().into());
                        t.insert("required".into(), i.required.into());
                        t
                    })
                    .collect(),
            ),
        );
        f.insert(
            "checklist".into(),
            tables(
                self.checklist
                    .iter()
                    .map(|c| {
                        let mut t = Table::new();
                        t.insert("code".into(), c.code.clone().into());
                        labelled(&mut t, &c.label);
                        t
                    })
                    .collect(),
            ),
        );
        toml::to_string(&f).expect("a table of plain values serialises")
    }
}
