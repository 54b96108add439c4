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
    /// This platform's own public address (`https://bandi.regione.example`): the links it
    /// sends by e-mail (a password reset) start with it, never with a request's `Host`.
    /// Without it, no link is sent.
    #[serde(default)]
    pub public_url: Option<String>,
    /// SPID and CIE, through the identity gateways that speak OpenID Connect
    /// (`[[identity_providers]]`); none: e-mail and password only.
    #[serde(default)]
    pub identity_providers: Vec<IdentityProvider>,
}

/// Which public digital identity a provider gives: its button on the sign-in page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IdentityKind {
    Spid,
    Cie,
}

impl IdentityKind {
    pub const ALL: [IdentityKind; 2] = [IdentityKind::Spid, IdentityKind::Cie];

    /// In paths (`/accedi/spid`) and the flow's record.
    pub fn as_str(self) -> &'static str {
        match self {
            IdentityKind::Spid => "spid",
            IdentityKind::Cie => "cie",
        }
    }

    pub fn parse(s: &str) -> Option<IdentityKind> {
        IdentityKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// "SPID", "CIE": as the buttons and messages name it.
    pub fn label(self) -> &'static str {
        match self {
            IdentityKind::Spid => "SPID",
            IdentityKind::Cie => "CIE",
        }
    }

    /// Where the provider sends the person back: the redirect URI registered with it
    /// ends with this path.
    pub fn return_path(self) -> String {
        format!("/accedi/{}/ritorno", self.as_str())
    }
}

/// One OpenID Connect provider (a regional identity gateway, or SPID/CIE's own).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentityProvider {
    pub kind: IdentityKind,
    /// The issuer: its discovery document is at `ISSUER/.well-known/openid-configuration`.
    pub issuer: String,
    pub client_id: String,
    /// The client's secret, when the provider gave one (keep this file readable only by
    /// the service).
    #[serde(default)]
    pub client_secret: Option<String>,
    /// This platform's address as registered with the provider, ending with
    /// `/accedi/spid/ritorno` (or `cie`).
    pub redirect_uri: String,
    /// The claim that carries the fiscal code (SPID's `fiscal_number`, `TINIT-…`).
    #[serde(default = "fiscal_number")]
    pub fiscal_code_claim: String,
    /// Scopes asked besides `openid`.
    #[serde(default = "profile_scope")]
    pub scopes: Vec<String>,
}

fn fiscal_number() -> String {
    "fiscal_number".into()
}

fn profile_scope() -> Vec<String> {
    vec!["profile".into()]
}

impl IdentityProvider {
    fn problem(&self) -> Option<String> {
        let kind = self.kind.as_str();
        let web = |u: &str| u.starts_with("https://") || u.starts_with("http://");
        if !web(&self.issuer) {
            Some(format!(
                "identity_providers.{kind}.issuer: deve iniziare con https:// / must start with https://"
            ))
        } else if self.client_id.trim().is_empty() {
            Some(format!(
                "identity_providers.{kind}.client_id: vuoto / empty"
            ))
        } else if !web(&self.redirect_uri) || !self.redirect_uri.ends_with(&self.kind.return_path())
        {
            Some(format!(
                "identity_providers.{kind}.redirect_uri: deve finire con / must end with {}",
                self.kind.return_path()
            ))
        } else if self.fiscal_code_claim.trim().is_empty() {
            Some(format!(
                "identity_providers.{kind}.fiscal_code_claim: vuoto / empty"
            ))
        } else {
            None
        }
    }
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
            public_url: None,
            identity_providers: Vec::new(),
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
        } else if site
            .public_url
            .as_ref()
            .is_some_and(|u| !(u.starts_with("https://") || u.starts_with("http://")))
        {
            Some("public_url: deve iniziare con https:// / must start with https://")
        } else {
            None
        };
        if let Some(p) = problem {
            return Err(p.to_string());
        }
        for (i, p) in site.identity_providers.iter().enumerate() {
            if let Some(problem) = p.problem() {
                return Err(problem);
            }
            if site.identity_providers[..i]
                .iter()
                .any(|q| q.kind == p.kind)
            {
                return Err(format!(
                    "identity_providers: {} due volte / twice",
                    p.kind.as_str()
                ));
            }
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
                format!("{good}public_url = \"bandi.example.it\"\n"),
                "public_url",
            ),
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

    #[test]
    fn identity_providers_and_their_mistakes() {
        let base = "name = \"Regione Toscana\"\nurl = \"https://www.regione.toscana.it\"\nfiscal_code = \"01386030488\"\noffice = \"Settore innovazione\"\n";
        let spid = "[[identity_providers]]\nkind = \"spid\"\nissuer = \"https://id.example.it\"\nclient_id = \"bandi\"\nclient_secret = \"s3cret\"\nredirect_uri = \"https://bandi.example.it/accedi/spid/ritorno\"\n";
        let site = Site::from_toml(&format!("{base}{spid}")).unwrap();
        let p = &site.identity_providers[0];
        assert_eq!(
            (p.kind, p.fiscal_code_claim.as_str()),
            (IdentityKind::Spid, "fiscal_number")
        );
        assert_eq!(p.scopes, vec!["profile".to_string()]);
        assert!(Site::default().identity_providers.is_empty());
        for (bad, needle) in [
            (
                spid.replace("/accedi/spid/", "/accedi/cie/"),
                "redirect_uri",
            ),
            (spid.replace("https://id.", "id."), "issuer"),
            (spid.replace("\"bandi\"", "\" \""), "client_id"),
            (spid.replace("\"spid\"", "\"eidas\""), "eidas"),
            (format!("{spid}{spid}"), "twice"),
            (format!("{spid}scope = \"x\"\n"), "scope"),
        ] {
            let e = Site::from_toml(&format!("{base}{bad}")).unwrap_err();
            assert!(e.contains(needle), "{needle}: {e}");
        }
        for k in IdentityKind::ALL {
            assert_eq!(IdentityKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(IdentityKind::parse("SPID"), None);
    }
}
