//! The notices an entity gets (by e-mail and PEC, and in its reserved area) at every step
//! that matters to it: written in Italian, the language of the administration's
//! correspondence, with the facts and what to do next.

use serde::{Deserialize, Serialize};

use crate::money::Money;

/// What a notice tells of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    Received,
    IntegrationRequested,
    IntegrationReminder,
    Admitted,
    Reduced,
    Rejected,
    Withdrawn,
    /// Money reached the application: freed by another's decision, or a top-up.
    Funded,
    CupRecorded,
    ListPublished,
    Revoked,
    PasswordReset,
    ReportReturned,
    VerificationClosed,
    PaymentRecorded,
    ReportDeadlineExtended,
}

impl NoticeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            NoticeKind::Received => "received",
            NoticeKind::IntegrationRequested => "integration_requested",
            NoticeKind::IntegrationReminder => "integration_reminder",
            NoticeKind::Admitted => "admitted",
            NoticeKind::Reduced => "reduced",
            NoticeKind::Rejected => "rejected",
            NoticeKind::Withdrawn => "withdrawn",
            NoticeKind::Funded => "funded",
            NoticeKind::CupRecorded => "cup_recorded",
            NoticeKind::ListPublished => "list_published",
            NoticeKind::Revoked => "revoked",
            NoticeKind::PasswordReset => "password_reset",
            NoticeKind::ReportReturned => "report_returned",
            NoticeKind::VerificationClosed => "verification_closed",
            NoticeKind::PaymentRecorded => "payment_recorded",
            NoticeKind::ReportDeadlineExtended => "report_deadline_extended",
        }
    }

    pub fn parse(s: &str) -> Option<NoticeKind> {
        [
            NoticeKind::Received,
            NoticeKind::IntegrationRequested,
            NoticeKind::IntegrationReminder,
            NoticeKind::Admitted,
            NoticeKind::Reduced,
            NoticeKind::Rejected,
            NoticeKind::Withdrawn,
            NoticeKind::Funded,
            NoticeKind::CupRecorded,
            NoticeKind::ListPublished,
            NoticeKind::Revoked,
            NoticeKind::PasswordReset,
            NoticeKind::ReportReturned,
            NoticeKind::VerificationClosed,
            NoticeKind::PaymentRecorded,
            NoticeKind::ReportDeadlineExtended,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// A notice ready to store and send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub kind: NoticeKind,
    pub subject: String,
    pub body: String,
}

/// What every notice about an application names.
#[derive(Debug, Clone)]
pub struct About<'a> {
    pub call_title: &'a str,
    pub protocol: &'a str,
    pub entity_name: &'a str,
}

const SIGNATURE: &str = "\n\nQuesta comunicazione è inviata automaticamente dalla piattaforma dei bandi; \
il dettaglio è consultabile nell'area riservata.";

fn notice(kind: NoticeKind, subject: String, body: String) -> Notice {
    Notice {
        kind,
        subject,
        body: format!("{body}{SIGNATURE}"),
    }
}

fn head(a: &About<'_>) -> String {
    format!(
        "Spettabile {},\n\nin merito alla domanda protocollo {} presentata al bando «{}»:",
        a.entity_name, a.protocol, a.call_title
    )
}

pub fn received(a: &About<'_>, received_local: &str, requested: Money) -> Notice {
    notice(
        NoticeKind::Received,
        format!("Ricevuta della domanda {}", a.protocol),
        format!(
            "{}\n\nla domanda è stata ricevuta il {received_local} (ora italiana) con il protocollo {}. \
             Il contributo richiesto è di {requested}. La ricevuta, con l'impronta del contenuto e la voce \
             del registro, è nell'area riservata.",
            head(a),
            a.protocol
        ),
    )
}

pub fn integration_requested(a: &About<'_>, text: &str, deadline_local: &str) -> Notice {
    notice(
        NoticeKind::IntegrationRequested,
        format!("Richiesta di integrazione per la domanda {}", a.protocol),
        format!(
            "{}\n\nl'ufficio chiede un'integrazione (soccorso istruttorio):\n\n{text}\n\n\
             La risposta, con gli eventuali documenti, si invia dall'area riservata entro il \
             {deadline_local} (ora italiana). In mancanza di risposta entro la scadenza, l'istruttoria \
             prosegue sulla base della documentazione presente.",
            head(a)
        ),
    )
}

pub fn integration_reminder(a: &About<'_>, deadline_local: &str) -> Notice {
    notice(
        NoticeKind::IntegrationReminder,
        format!("Promemoria: integrazione per la domanda {}", a.protocol),
        format!(
            "{}\n\nsi ricorda che la richiesta di integrazione scade il {deadline_local} (ora \
             italiana). La risposta si invia dall'area riservata.",
            head(a)
        ),
    )
}

pub fn admitted(a: &About<'_>, reason: &str) -> Notice {
    notice(
        NoticeKind::Admitted,
        format!("Domanda {} ammessa", a.protocol),
        format!(
            "{}\n\nla domanda è ammessa.\n\nMotivazione: {reason}",
            head(a)
        ),
    )
}

pub fn reduced(a: &About<'_>, reason: &str, eligible: Money, grant: Money) -> Notice {
    notice(
        NoticeKind::Reduced,
        format!("Domanda {}: spesa ammissibile ridotta", a.protocol),
        format!(
            "{}\n\nla spesa ammissibile è ridotta a {eligible}; il contributo è ricalcolato in {grant}.\n\n\
             Motivazione: {reason}",
            head(a)
        ),
    )
}

pub fn rejected(a: &About<'_>, reason: &str) -> Notice {
    notice(
        NoticeKind::Rejected,
        format!("Domanda {} non ammessa", a.protocol),
        format!(
            "{}\n\nla domanda non è ammessa.\n\nMotivazione: {reason}",
            head(a)
        ),
    )
}

pub fn withdrawn(a: &About<'_>, reason: &str) -> Notice {
    notice(
        NoticeKind::Withdrawn,
        format!("Rinuncia alla domanda {}", a.protocol),
        format!(
            "{}\n\nè registrata la rinuncia alla domanda.\n\nMotivazione: {reason}",
            head(a)
        ),
    )
}

pub fn funded(a: &About<'_>, reserved: Money, requested: Money) -> Notice {
    let what = if reserved >= requested {
        format!("le risorse del contributo richiesto ({reserved}) sono ora riservate alla domanda")
    } else {
        format!("sono ora riservati alla domanda {reserved} dei {requested} richiesti")
    };
    notice(
        NoticeKind::Funded,
        format!("Domanda {}: risorse assegnate", a.protocol),
        format!(
            "{}\n\n{what}, per lo scorrimento dell'elenco cronologico (risorse liberate o integrate). \
             La domanda segue l'istruttoria.",
            head(a)
        ),
    )
}

/// The list is published: where the application stands in it, and by which act.
pub fn list_published(
    a: &About<'_>,
    version: u32,
    act: &str,
    outcome: &str,
    granted: Money,
) -> Notice {
    notice(
        NoticeKind::ListPublished,
        format!("Domanda {}: pubblicato l'elenco delle domande", a.protocol),
        format!(
            "{}

è pubblicato l'elenco cronologico delle domande (versione {version}), approvato con {act}. \
             La domanda vi figura come: {outcome}; contributo concesso {granted}.",
            head(a)
        ),
    )
}

pub fn report_returned(a: &About<'_>, reason: &str) -> Notice {
    notice(
        NoticeKind::ReportReturned,
        format!("Domanda {}: rendiconto da integrare", a.protocol),
        format!(
            "{}\n\nil rendiconto delle spese è restituito per un'integrazione, con questa motivazione:\n\n{reason}\n\n\
             Il rendiconto si può modificare e ripresentare dall'area riservata.",
            head(a)
        ),
    )
}

pub fn verification_closed(a: &About<'_>, verified: Money, grant: Money) -> Notice {
    notice(
        NoticeKind::VerificationClosed,
        format!(
            "Domanda {}: rendiconto verificato, contributo finale",
            a.protocol
        ),
        format!(
            "{}\n\nla verifica del rendiconto è conclusa: spesa ammissibile verificata {verified}, \
             contributo finale {grant}. L'esito di ogni spesa è nell'area riservata.",
            head(a)
        ),
    )
}

pub fn payment_recorded(
    a: &About<'_>,
    kind: &str,
    amount: Money,
    paid_on: &str,
    act: &str,
) -> Notice {
    notice(
        NoticeKind::PaymentRecorded,
        format!("Domanda {}: pagamento disposto", a.protocol),
        format!(
            "{}\n\nè stato disposto il pagamento ({kind}) di {amount}, in data {paid_on}, con {act}.",
            head(a)
        ),
    )
}

pub fn report_deadline_extended(a: &About<'_>, until: &str, reason: &str) -> Notice {
    notice(
        NoticeKind::ReportDeadlineExtended,
        format!("Domanda {}: termine del rendiconto prorogato", a.protocol),
        format!(
            "{}\n\nil termine per presentare il rendiconto è prorogato al {until}, con questa motivazione:\n\n{reason}",
            head(a)
        ),
    )
}

pub fn cup_recorded(a: &About<'_>, cup: &str) -> Notice {
    notice(
        NoticeKind::CupRecorded,
        format!("Domanda {}: CUP registrato", a.protocol),
        format!(
            "{}\n\nè registrato il CUP {cup}. Il progetto può passare alla rendicontazione.",
            head(a)
        ),
    )
}

pub fn revoked(a: &About<'_>, reason: &str, act: &str) -> Notice {
    notice(
        NoticeKind::Revoked,
        format!("Domanda {}: contributo revocato", a.protocol),
        format!(
            "{}\n\nil contributo è revocato con l'atto {act}.\n\nMotivazione: {reason}",
            head(a)
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notices_name_the_application_and_what_to_do() {
        let a = About {
            call_title: "Bando smart working",
            protocol: "ER-SW-2020/0000042",
            entity_name: "Comune di Cervia",
        };
        let n = integration_requested(&a, "Inviare la delibera.", "15/05/2020 18:00");
        assert_eq!(n.kind, NoticeKind::IntegrationRequested);
        assert!(n.subject.contains("ER-SW-2020/0000042"));
        for needle in [
            "Comune di Cervia",
            "Inviare la delibera.",
            "15/05/2020 18:00",
            "area riservata",
        ] {
            assert!(n.body.contains(needle), "{needle}");
        }
        let f = funded(&a, Money::from_euros(10), Money::from_euros(20));
        assert!(f.body.contains("10,00 €") && f.body.contains("20,00 €"));
        let l = list_published(
            &a,
            2,
            "DD 100/2020 del 2020-05-15",
            "Ammessa e finanziata",
            Money::from_euros(52_500),
        );
        assert_eq!(l.kind, NoticeKind::ListPublished);
        for needle in [
            "versione 2",
            "DD 100/2020",
            "Ammessa e finanziata",
            "52.500,00 €",
        ] {
            assert!(l.body.contains(needle), "{needle}: {}", l.body);
        }
        for k in [
            NoticeKind::Received,
            NoticeKind::Funded,
            NoticeKind::PasswordReset,
        ] {
            assert_eq!(NoticeKind::parse(k.as_str()), Some(k));
        }
    }
}
