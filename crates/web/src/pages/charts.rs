//! Bar charts drawn on the server as SVG, inline in the page: no script, no image request,
//! nothing for the Content-Security-Policy to refuse (colours are presentation attributes,
//! not styles). Each chart is an image with a name and a description for screen readers
//! (`role="img"`, `<title>`, `<desc>` naming every bar and its value); the page puts the
//! same numbers in a table beside it.
//!
//! Horizontal bars, one row per label, one bar per series in each row: long labels stay
//! readable and the chart grows downwards. Colours have at least 4.5:1 against white, so
//! bars and the text on them are told apart without relying on colour alone (the legend
//! and the table name every series).

use std::fmt::Write;

/// The colours of the series, in order: Bootstrap Italia's blue, a dark amber.
pub const COLOURS: [&str; 2] = ["#0066CC", "#8A4B00"];
const TEXT: &str = "#1A1A1A";
const AXIS: &str = "#5C6F82";

const WIDTH: u32 = 760;
const ROW_GAP: u32 = 10;
const BAR: u32 = 18;
const LABEL_CHARS: usize = 40;
const CHAR_PX: u32 = 7;
const VALUE_ROOM: u32 = 130;
const TOP: u32 = 8;

/// One row of the chart: its label and one value per series, with the values as people
/// read them (`52.500,00 €`).
pub struct Bar {
    pub label: String,
    pub values: Vec<i64>,
    pub shown: Vec<String>,
}

pub struct BarChart {
    /// Unique in the page: the ids of the title and the description derive from it.
    pub id: String,
    pub title: String,
    /// What the chart shows, in a sentence; the values follow it in the description.
    pub summary: String,
    /// The names of the series (one for a simple chart).
    pub series: Vec<String>,
    pub bars: Vec<Bar>,
}

/// Text for SVG (XML): the five characters that matter escaped.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A label cut to what fits, with an ellipsis (the table has it whole).
fn fit(label: &str) -> String {
    if label.chars().count() <= LABEL_CHARS {
        label.to_string()
    } else {
        let cut: String = label.chars().take(LABEL_CHARS - 1).collect();
        format!("{}…", cut.trim_end())
    }
}

impl BarChart {
    /// The description: the summary, then every label with its values.
    pub fn description(&self) -> String {
        let mut d = self.summary.clone();
        for b in &self.bars {
            let values: Vec<String> = if self.series.len() > 1 {
                self.series
                    .iter()
                    .zip(&b.shown)
                    .map(|(s, v)| format!("{s} {v}"))
                    .collect()
            } else {
                b.shown.clone()
            };
            let _ = write!(d, " {}: {}.", b.label, values.join(", "));
        }
        d
    }

    /// The chart as an inline `<svg>` element.
    pub fn svg(&self) -> String {
        let n_series = self.series.len().max(1) as u32;
        let label_px = self
            .bars
            .iter()
            .map(|b| fit(&b.label).chars().count() as u32)
            .max()
            .unwrap_or(0)
            .max(4)
            * CHAR_PX
            + 12;
        let plot = WIDTH.saturating_sub(label_px + VALUE_ROOM).max(100);
        let row_h = n_series * BAR + ROW_GAP;
        let legend_h = if n_series > 1 { 28 } else { 0 };
        let height = TOP + legend_h + row_h * self.bars.len() as u32 + 8;
        let max = self
            .bars
            .iter()
            .flat_map(|b| b.values.iter().copied())
            .max()
            .unwrap_or(0)
            .max(1);
        let (tid, did) = (format!("{}-title", self.id), format!("{}-desc", self.id));
        let mut s = String::new();
        let _ = write!(
            s,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" class=\"chart\" id=\"{id}\" \
             aria-labelledby=\"{tid} {did}\" viewBox=\"0 0 {WIDTH} {height}\" width=\"100%\" \
             preserveAspectRatio=\"xMinYMin meet\" font-family=\"Titillium Web, sans-serif\" \
             font-size=\"13\"><title id=\"{tid}\">{title}</title><desc id=\"{did}\">{desc}</desc>",
            id = escape(&self.id),
            tid = escape(&tid),
            did = escape(&did),
            title = escape(&self.title),
            desc = escape(&self.description()),
        );
        if n_series > 1 {
            let mut x = label_px;
            for (i, name) in self.series.iter().enumerate() {
                let colour = COLOURS[i % COLOURS.len()];
                let _ = write!(
                    s,
                    "<rect x=\"{x}\" y=\"{TOP}\" width=\"14\" height=\"14\" fill=\"{colour}\"/>\
                     <text x=\"{tx}\" y=\"{ty}\" fill=\"{TEXT}\">{name}</text>",
                    tx = x + 20,
                    ty = TOP + 12,
                    name = escape(name),
                );
                x += 40 + name.chars().count() as u32 * CHAR_PX;
            }
        }
        let top = TOP + legend_h;
        let _ = write!(
            s,
            "<line x1=\"{x}\" y1=\"{top}\" x2=\"{x}\" y2=\"{y2}\" stroke=\"{AXIS}\" stroke-width=\"1\"/>",
            x = label_px,
            y2 = top + row_h * self.bars.len() as u32,
        );
        for (row, b) in self.bars.iter().enumerate() {
            let y0 = top + row as u32 * row_h + ROW_GAP / 2;
            let _ = write!(
                s,
                "<text x=\"{x}\" y=\"{y}\" text-anchor=\"end\" fill=\"{TEXT}\">{label}</text>",
                x = label_px - 8,
                y = y0 + (n_series * BAR) / 2 + 4,
                label = escape(&fit(&b.label)),
            );
            for (i, v) in b.values.iter().enumerate() {
                let w = ((i128::from((*v).max(0)) * i128::from(plot)) / i128::from(max)) as u32;
                let y = y0 + i as u32 * BAR;
                let colour = COLOURS[i % COLOURS.len()];
                let shown = b.shown.get(i).map(String::as_str).unwrap_or("");
                let _ = write!(
                    s,
                    "<rect x=\"{label_px}\" y=\"{y}\" width=\"{w}\" height=\"{h}\" fill=\"{colour}\"/>\
                     <text x=\"{tx}\" y=\"{ty}\" fill=\"{TEXT}\">{shown}</text>",
                    h = BAR - 3,
                    tx = label_px + w + 6,
                    ty = y + BAR - 6,
                    shown = escape(shown),
                );
            }
        }
        s.push_str("</svg>");
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart() -> BarChart {
        BarChart {
            id: "c1".into(),
            title: "Domande <per> minuto".into(),
            summary: "Domande ricevute.".into(),
            series: vec!["Domande".into()],
            bars: vec![
                Bar {
                    label: "09:30".into(),
                    values: vec![10],
                    shown: vec!["10".into()],
                },
                Bar {
                    label: "Un'etichetta molto lunga che non entra nello spazio & oltre".into(),
                    values: vec![5],
                    shown: vec!["5".into()],
                },
            ],
        }
    }

    #[test]
    fn an_accessible_image_with_its_numbers() {
        let svg = chart().svg();
        assert!(svg.starts_with("<svg "));
        assert!(svg.ends_with("</svg>"));
        assert!(svg.contains("role=\"img\""));
        assert!(svg.contains("aria-labelledby=\"c1-title c1-desc\""));
        assert!(svg.contains("<title id=\"c1-title\">Domande &lt;per&gt; minuto</title>"));
        assert!(svg.contains("09:30: 10."), "{svg}");
        assert!(
            svg.contains("&amp; oltre: 5."),
            "the description names the whole label"
        );
        assert!(svg.contains("…</text>"), "the label on the chart is cut");
        assert!(
            !svg.contains("style="),
            "no inline styles: the CSP forbids them"
        );
        // The longest bar takes the whole plot, the other half of it.
        let widths: Vec<u32> = svg
            .match_indices("<rect x=")
            .map(|(i, _)| {
                let w = &svg[i..];
                let w = &w[w.find("width=\"").unwrap() + 7..];
                w[..w.find('"').unwrap()].parse().unwrap()
            })
            .collect();
        assert_eq!(widths.len(), 2);
        assert_eq!(widths[1], widths[0] / 2);
    }

    #[test]
    fn two_series_have_a_legend_and_nothing_breaks_on_zero() {
        let c = BarChart {
            id: "c2".into(),
            title: "Indicatori".into(),
            summary: "Previsti e raggiunti.".into(),
            series: vec!["Previsto".into(), "Raggiunto".into()],
            bars: vec![Bar {
                label: "Lavoratori agili".into(),
                values: vec![0, 0],
                shown: vec!["0".into(), "0".into()],
            }],
        };
        let svg = c.svg();
        assert!(svg.contains(">Previsto</text>") && svg.contains(">Raggiunto</text>"));
        assert!(svg.contains(COLOURS[1]));
        assert!(
            c.description()
                .contains("Lavoratori agili: Previsto 0, Raggiunto 0.")
        );
    }
}
