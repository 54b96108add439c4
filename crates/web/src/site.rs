//! Who runs the deployment: the region's name, site, fiscal code, PEC, contacts, office and
//! logo, as its header and footer show them and as its open data names the funder. Read
//! from a TOML file given to `bandi serve --site FILE`; without one, the Regione
//! Emilia-Romagna of the 2020 call.

use serde::Deserialize;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Site {
    /// "Regione Emilia-Romagna".
    pub name: String,
    /// Its own website, linked from the header and the footer.
    pub url: String,
    /// Eleven digits: the funder's identifier in the open data (`IT-CF-…`).
    pub fiscal_code: String,
    #[serde(default)]
    pub pec: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub address: Option<String>,
    /// The office responsible for the calls, on the transparency page.
    pub office: String,
    /// A logo file (SVG or PNG, at most 256 KiB), read at start and served at
    /// `/sito/logo`; the Bootstrap Italia kit's emblem of a public body without one.
    #[serde(default)]
    pub logo: Option<std::path::PathBuf>,
    /// The logo's bytes and type, once read.
    #[serde(skip)]
    pub logo_file: Option<(Vec<u8>, &'static str)>,
}

impl Default for Site {
    fn default() -> Site {
        Site {
            name: "Regione Emilia-Romagna".into(),
            url: "https://www.regione.emilia-romagna.it".into(),
            fiscal_code: "80062590379".into(),
            pec: Some("urp@postacert.regione.emilia-romagna.it".into()),
            email: None,
            phone: Some("800 66 22 00".into()),
            address: Some("Viale Aldo Moro 52, 40127 Bologna".into()),
            office: "Regione Emilia-Romagna – ufficio responsabile del bando".into(),
            logo: None,
            logo_file: None,
        }
    }
}

impl Site {
    /// Reads and checks a site file; the error names what is wrong, in Italian and English.
    pub fn from_toml(text: &str) -> Result<Site, String> {
        let mut site: Site = toml::from_str(text).map_err(|e| e.to_string())?;
        let problem = if site.name.trim().is_empty() {
            Some("name: vuoto / empty")
        } else if !(site.url.starts_with("https://") || site.url.starts_with("http://")) {
            Some("url: deve iniziare con https:// / must start with https://")
        } else if site.fiscal_code.len() != 11
            || !site.fiscal_code.bytes().all(|b| b.is_ascii_digit())
        {
            Some("fiscal_code: undici cifre / eleven digits")
        } else if site.office.trim().is_empty() {
            Some("office: vuoto / empty")
        } else {
            None
        };
        if let Some(p) = problem {
            return Err(p.to_string());
        }
        if let Some(path) = &site.logo {
            site.logo_file = Some(read_logo(path)?);
        }
        Ok(site)
    }

    /// Reads `path` as a site file.
    pub fn load(path: &std::path::Path) -> Result<Site, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        Site::from_toml(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// The funder's identifier in the open data (org-id.guide's `IT-CF` list).
    pub fn funder_id(&self) -> String {
        format!("IT-CF-{}", self.fiscal_code)
    }
}

/// The logo's bytes and type, told by its content, not its name.
fn read_logo(path: &std::path::Path) -> Result<(Vec<u8>, &'static str), String> {
    const MAX: u64 = 256 * 1024;
    let too_big = std::fs::metadata(path)
        .map(|m| m.len() > MAX)
        .map_err(|e| format!("logo {}: {e}", path.display()))?;
    if too_big {
        return Err(format!(
            "logo {}: oltre 256 KiB / over 256 KiB",
            path.display()
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| format!("logo {}: {e}", path.display()))?;
    let kind = if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        "image/png"
    } else if String::from_utf8_lossy(&bytes[..bytes.len().min(512)]).contains("<svg") {
        "image/svg+xml"
    } else {
        return Err(format!(
            "logo {}: né SVG né PNG / neither SVG nor PNG",
            path.display()
        ));
    };
    Ok((bytes, kind))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_site_file_and_its_mistakes() {
        let good = "name = \"Regione Toscana\"\nurl = \"https://www.regione.toscana.it\"\nfiscal_code = \"01386030488\"\npec = \"regionetoscana@postacert.toscana.it\"\noffice = \"Settore innovazione\"\n";
        let site = Site::from_toml(good).unwrap();
        assert_eq!(site.name, "Regione Toscana");
        assert_eq!(site.funder_id(), "IT-CF-01386030488");
        assert_eq!(site.logo, None);
        for (bad, needle) in [
            (good.replace("01386030488", "0138603048"), "fiscal_code"),
            (good.replace("https://www", "ftp://www"), "url"),
            (format!("{good}logo = \"/nonexistent/logo.svg\"\n"), "logo"),
            (
                format!("{good}logo = \"Cargo.toml\"\n"),
                "neither SVG nor PNG",
            ),
            (format!("{good}colour = \"red\"\n"), "colour"),
            (
                good.replace("name = \"Regione Toscana\"", "name = \" \""),
                "name",
            ),
        ] {
            let e = Site::from_toml(&bad).unwrap_err();
            assert!(e.contains(needle), "{needle}: {e}");
        }
        assert_eq!(Site::default().funder_id(), "IT-CF-80062590379");
    }
}
