//! The words of the pages in both languages. Long texts (the accessibility statement, the
//! privacy notice) are written in the templates, one block per language.

use bandi_domain::allocation::Status;
use bandi_domain::call::CallState;
use bandi_domain::i18n::Locale;
use bandi_domain::ledger::Record;

/// Labels and short sentences, checked by the compiler in every template that uses them.
pub struct Ui {
    pub lang: &'static str,
    pub skip_to_content: &'static str,
    pub site_title: &'static str,
    pub site_tagline: &'static str,
    pub language: &'static str,
    pub breadcrumb: &'static str,
    pub main_menu: &'static str,
    pub toggle_menu: &'static str,
    pub close_menu: &'static str,
    pub home: &'static str,
    pub calls: &'static str,
    pub ledger: &'static str,
    pub accessibility: &'static str,
    pub privacy: &'static str,
    pub api: &'static str,
    pub footer_about: &'static str,
    pub footer_links: &'static str,
    pub calls_intro: &'static str,
    pub no_calls: &'static str,
    pub budget: &'static str,
    pub remaining: &'static str,
    pub reserved: &'static str,
    pub applications: &'static str,
    pub waitlisted: &'static str,
    pub opens: &'static str,
    pub closes: &'static str,
    pub co_financing: &'static str,
    pub max_grant: &'static str,
    pub cost_range: &'static str,
    pub per_entity: &'static str,
    pub unlimited: &'static str,
    pub eligible: &'static str,
    pub categories: &'static str,
    pub not_eligible: &'static str,
    pub max_share: &'static str,
    pub completion_deadline: &'static str,
    pub reporting_deadline: &'static str,
    pub read_call: &'static str,
    pub see_ranking: &'static str,
    pub key_facts: &'static str,
    pub call_text: &'static str,
    pub live_title: &'static str,
    pub live_note: &'static str,
    pub live_no_js: &'static str,
    pub budget_used: &'static str,
    pub server_time: &'static str,
    pub server_time_note: &'static str,
    pub opens_in: &'static str,
    pub closes_in: &'static str,
    pub closed_since: &'static str,
    pub refresh: &'static str,
    pub how_to_apply: &'static str,
    pub how_to_apply_text: &'static str,
    pub ranking: &'static str,
    pub ranking_intro: &'static str,
    pub first_come: &'static str,
    pub ranking_caption: &'static str,
    pub ranking_empty: &'static str,
    pub col_number: &'static str,
    pub col_protocol: &'static str,
    pub col_entity: &'static str,
    pub col_received: &'static str,
    pub col_requested: &'static str,
    pub col_reserved: &'static str,
    pub col_status: &'static str,
    pub times_in: &'static str,
    pub ledger_intro: &'static str,
    pub protocol_label: &'static str,
    pub protocol_hint: &'static str,
    pub search: &'static str,
    pub entry: &'static str,
    pub entry_seq: &'static str,
    pub entry_kind: &'static str,
    pub entry_at: &'static str,
    pub entry_prev_hash: &'static str,
    pub entry_hash: &'static str,
    pub entry_payload: &'static str,
    pub application: &'static str,
    pub call: &'static str,
    pub current_status: &'static str,
    pub how_to_verify: &'static str,
    pub latest_entries: &'static str,
    pub latest_caption: &'static str,
    pub older_entries: &'static str,
    pub newest_entries: &'static str,
    pub ledger_empty: &'static str,
    pub previous_entry: &'static str,
    pub next_entry: &'static str,
    pub error_code: &'static str,
    pub error_back_home: &'static str,
    pub error_help: &'static str,
}

pub static IT: Ui = Ui {
    lang: "it",
    skip_to_content: "Vai al contenuto principale",
    site_title: "Bandi per gli enti locali",
    site_tagline: "Contributi regionali a Comuni, Unioni, Province e Città metropolitana",
    language: "Lingua",
    breadcrumb: "Percorso di navigazione",
    main_menu: "Menu principale",
    toggle_menu: "Mostra o nascondi il menu",
    close_menu: "Chiudi il menu",
    home: "Home",
    calls: "Bandi",
    ledger: "Registro pubblico",
    accessibility: "Dichiarazione di accessibilità",
    privacy: "Informativa privacy",
    api: "API e dati aperti",
    footer_about: "Piattaforma per la presentazione delle domande di contributo degli enti locali, il loro elenco cronologico e la trasparenza dei contributi.",
    footer_links: "Informazioni",
    calls_intro: "I bandi con cui la Regione cofinanzia i progetti degli enti locali. Per ogni bando: il testo, la dotazione, le date e, durante il click day, le risorse disponibili aggiornate in tempo reale.",
    no_calls: "Nessun bando pubblicato.",
    budget: "Dotazione",
    remaining: "Risorse disponibili",
    reserved: "Riservato",
    applications: "Domande presentate",
    waitlisted: "Domande in attesa di fondi",
    opens: "Apertura",
    closes: "Chiusura",
    co_financing: "Cofinanziamento regionale",
    max_grant: "Contributo massimo",
    cost_range: "Costo del progetto",
    per_entity: "Domande per ente",
    unlimited: "senza limite",
    eligible: "Enti ammessi",
    categories: "Voci di spesa",
    not_eligible: "non ammissibile",
    max_share: "al massimo",
    completion_deadline: "Conclusione dei progetti entro",
    reporting_deadline: "Rendicontazione entro",
    read_call: "Leggi il bando",
    see_ranking: "Elenco cronologico delle domande",
    key_facts: "In sintesi",
    call_text: "Testo del bando",
    live_title: "Contributo disponibile",
    live_note: "I valori si aggiornano da soli durante il click day.",
    live_no_js: "Senza JavaScript i valori sono quelli del momento in cui la pagina è stata caricata: ricaricarla per aggiornarli.",
    budget_used: "Quota della dotazione riservata",
    server_time: "Ora del server",
    server_time_note: "Fa fede l'ora del server, non quella del proprio computer.",
    opens_in: "Il bando apre tra",
    closes_in: "Il bando chiude tra",
    closed_since: "Il bando è chiuso dal",
    refresh: "Aggiorna la pagina",
    how_to_apply: "Come presentare la domanda",
    how_to_apply_text: "Le domande si presentano solo online, dall'apertura, con le credenziali dell'ente. Sono numerate con un protocollo nell'ordine di arrivo e finanziate in quell'ordine fino a esaurimento della dotazione.",
    ranking: "Elenco cronologico delle domande",
    first_come: "Il bando finanzia le domande nell'ordine cronologico di arrivo, fino a esaurimento delle risorse. Nessuna domanda può passare davanti a una arrivata prima: le risorse liberate da una rinuncia, da una domanda non ammessa o da una riduzione, e quelle aggiunte alla dotazione, vanno subito alla prima domanda in attesa, poi alla successiva.",
    ranking_intro: "Tutte le domande nell'ordine di arrivo, con il contributo richiesto, quello riservato e lo stato. L'ordine è quello dei numeri di protocollo, registrati nel registro pubblico.",
    ranking_caption: "Domande in ordine di arrivo",
    ranking_empty: "Nessuna domanda presentata finora.",
    col_number: "N.",
    col_protocol: "Protocollo",
    col_entity: "Ente",
    col_received: "Ricevuta il",
    col_requested: "Contributo richiesto",
    col_reserved: "Contributo riservato",
    col_status: "Stato",
    times_in: "Orari",
    ledger_intro: "Ogni evento dei bandi (pubblicazione, domanda presentata, ritiro, revoca...) è una voce di un registro in cui ogni voce contiene l'impronta SHA-256 della precedente: chiunque può verificare che nessuna voce sia stata cambiata o tolta.",
    protocol_label: "Numero di protocollo",
    protocol_hint: "Per esempio ER-SW-2020/0000001.",
    search: "Cerca",
    entry: "Voce del registro",
    entry_seq: "Numero della voce",
    entry_kind: "Tipo",
    entry_at: "Registrata il",
    entry_prev_hash: "Impronta della voce precedente",
    entry_hash: "Impronta di questa voce",
    entry_payload: "Contenuto registrato",
    application: "Domanda",
    call: "Bando",
    current_status: "Stato attuale",
    how_to_verify: "Come verificarla",
    latest_entries: "Ultime voci del registro",
    latest_caption: "Ultime voci del registro, dalla più recente",
    older_entries: "Voci precedenti",
    newest_entries: "Voci più recenti",
    ledger_empty: "Il registro è vuoto.",
    previous_entry: "Voce precedente",
    next_entry: "Voce successiva",
    error_code: "Codice dell'errore",
    error_back_home: "Torna alla pagina iniziale",
    error_help: "Se il problema continua, segnalarlo indicando il codice dell'errore e l'ora.",
};

pub static EN: Ui = Ui {
    lang: "en",
    skip_to_content: "Skip to main content",
    site_title: "Calls for local authorities",
    site_tagline: "Regional grants for municipalities, unions, provinces and the metropolitan city",
    language: "Language",
    breadcrumb: "Breadcrumb",
    main_menu: "Main menu",
    toggle_menu: "Show or hide the menu",
    close_menu: "Close the menu",
    home: "Home",
    calls: "Calls",
    ledger: "Public ledger",
    accessibility: "Accessibility statement",
    privacy: "Privacy notice",
    api: "API and open data",
    footer_about: "Platform for the applications of local authorities to regional grants, their chronological list and the transparency of the grants.",
    footer_links: "Information",
    calls_intro: "The calls through which the Region co-finances the projects of local authorities. For each call: its text, budget, dates and, during the click day, the funds available, updated live.",
    no_calls: "No call published.",
    budget: "Budget",
    remaining: "Funds available",
    reserved: "Reserved",
    applications: "Applications",
    waitlisted: "Applications waiting for funds",
    opens: "Opens",
    closes: "Closes",
    co_financing: "Regional co-financing",
    max_grant: "Maximum grant",
    cost_range: "Project cost",
    per_entity: "Applications per body",
    unlimited: "no limit",
    eligible: "Eligible bodies",
    categories: "Cost categories",
    not_eligible: "not eligible",
    max_share: "at most",
    completion_deadline: "Projects finish by",
    reporting_deadline: "Expense reports by",
    read_call: "Read the call",
    see_ranking: "Chronological list of the applications",
    key_facts: "Key facts",
    call_text: "Text of the call",
    live_title: "Funds available",
    live_note: "The figures update by themselves during the click day.",
    live_no_js: "Without JavaScript the figures are those of when the page was loaded: reload it to update them.",
    budget_used: "Share of the budget reserved",
    server_time: "Server time",
    server_time_note: "The server's clock is the one that counts, not your computer's.",
    opens_in: "The call opens in",
    closes_in: "The call closes in",
    closed_since: "The call closed on",
    refresh: "Reload the page",
    how_to_apply: "How to apply",
    how_to_apply_text: "Applications are only online, from the opening, with the body's credentials. They get a protocol number in order of arrival and are funded in that order until the budget runs out.",
    ranking: "Chronological list of the applications",
    first_come: "The call funds the applications in the chronological order of arrival, until the funds run out. No application can pass one that arrived before it: the funds freed by a withdrawal, a rejection or a reduction, and those added to the budget, go at once to the first waiting application, then to the next.",
    ranking_intro: "Every application in order of arrival, with the grant requested, the amount reserved and the status. The order is that of the protocol numbers, recorded in the public ledger.",
    ranking_caption: "Applications in order of arrival",
    ranking_empty: "No application yet.",
    col_number: "No.",
    col_protocol: "Protocol",
    col_entity: "Body",
    col_received: "Received at",
    col_requested: "Grant requested",
    col_reserved: "Grant reserved",
    col_status: "Status",
    times_in: "Times",
    ledger_intro: "Every event of the calls (publication, application received, withdrawal, revocation...) is an entry of a ledger in which each entry holds the SHA-256 hash of the one before: anyone can check that no entry was changed or removed.",
    protocol_label: "Protocol number",
    protocol_hint: "For example ER-SW-2020/0000001.",
    search: "Search",
    entry: "Ledger entry",
    entry_seq: "Entry number",
    entry_kind: "Kind",
    entry_at: "Recorded at",
    entry_prev_hash: "Hash of the previous entry",
    entry_hash: "Hash of this entry",
    entry_payload: "Recorded content",
    application: "Application",
    call: "Call",
    current_status: "Current status",
    how_to_verify: "How to check it",
    latest_entries: "Latest ledger entries",
    latest_caption: "Latest ledger entries, newest first",
    older_entries: "Older entries",
    newest_entries: "Newest entries",
    ledger_empty: "The ledger is empty.",
    previous_entry: "Previous entry",
    next_entry: "Next entry",
    error_code: "Error code",
    error_back_home: "Back to the home page",
    error_help: "If the problem persists, report it with the error code and the time.",
};

/// A call's time zone as people read it: «ora italiana» for Europe/Rome, the zone of
/// every call unless its file says otherwise; any other zone by its IANA name.
pub fn zone_name(tz: &str, locale: Locale) -> &str {
    match (tz, locale) {
        ("Europe/Rome", Locale::It) => "ora italiana",
        ("Europe/Rome", Locale::En) => "Italian time",
        _ => tz,
    }
}

impl super::Layout {
    /// [`zone_name`] in the page's language: `{{ l.zone(c.time_zone) }}`.
    pub fn zone<'a>(&self, tz: &'a str) -> &'a str {
        zone_name(tz, if self.en { Locale::En } else { Locale::It })
    }
}

pub fn ui(locale: Locale) -> &'static Ui {
    match locale {
        Locale::It => &IT,
        Locale::En => &EN,
    }
}

pub fn state_label(state: CallState, locale: Locale) -> &'static str {
    match (state, locale) {
        (CallState::Upcoming, Locale::It) => "Di prossima apertura",
        (CallState::Open, Locale::It) => "Aperto",
        (CallState::Closed, Locale::It) => "Chiuso",
        (CallState::Upcoming, Locale::En) => "Opening soon",
        (CallState::Open, Locale::En) => "Open",
        (CallState::Closed, Locale::En) => "Closed",
    }
}

/// The status of an application as people read it.
pub fn status_label(status: Status, locale: Locale) -> &'static str {
    let it = locale == Locale::It;
    match status {
        Status::Reserved if it => "Finanziabile: fondi riservati",
        Status::Reserved => "Fundable: funds reserved",
        Status::Partial if it => "Finanziabile in parte",
        Status::Partial => "Partly fundable",
        Status::Waitlisted if it => "In attesa di fondi",
        Status::Waitlisted => "Waiting for funds",
        Status::Withdrawn if it => "Ritirata",
        Status::Withdrawn => "Withdrawn",
        Status::Rejected if it => "Non ammessa",
        Status::Rejected => "Rejected",
        Status::Revoked if it => "Contributo revocato",
        Status::Revoked => "Grant revoked",
    }
}

/// What a ledger entry records, as a label; `None` for an entry whose payload cannot be
/// read (which `bandi verify` reports as corrupt).
pub fn kind_label(record: Option<&Record>, locale: Locale) -> &'static str {
    let (it, en) = match record {
        Some(Record::CallPublished { .. }) => ("Pubblicazione del bando", "Call published"),
        Some(Record::ApplicationSubmitted { .. }) => ("Domanda presentata", "Application received"),
        Some(Record::ApplicationTaken { .. }) => {
            ("Domanda presa in carico", "Application taken for review")
        }
        Some(Record::ChecklistChecked { .. }) => (
            "Verifica della lista di controllo",
            "Checklist item checked",
        ),
        Some(Record::IntegrationRequested { .. }) => {
            ("Richiesta di integrazione", "Integration requested")
        }
        Some(Record::IntegrationAnswered { .. }) => {
            ("Integrazione inviata", "Integration answered")
        }
        Some(Record::ApplicationAdmitted { .. }) => ("Domanda ammessa", "Application admitted"),
        Some(Record::ApplicationWithdrawn { .. }) => ("Domanda ritirata", "Application withdrawn"),
        Some(Record::ApplicationRejected { .. }) => ("Domanda non ammessa", "Application rejected"),
        Some(Record::ApplicationReduced { .. }) => {
            ("Spesa ammissibile ridotta", "Eligible cost reduced")
        }
        Some(Record::AwardRevoked { .. }) => ("Contributo revocato", "Grant revoked"),
        Some(Record::BudgetChanged { .. }) => ("Dotazione modificata", "Budget changed"),
        Some(Record::ListPublished { .. }) => ("Elenco pubblicato", "List published"),
        Some(Record::CupRecorded { .. }) => ("CUP registrato", "CUP recorded"),
        Some(Record::ReportSubmitted { .. }) => ("Rendiconto presentato", "Report submitted"),
        Some(Record::ExpenseChecked { .. }) => ("Spesa verificata", "Expense checked"),
        Some(Record::ReportReturned { .. }) => (
            "Rendiconto restituito per integrazione",
            "Report returned for an integration",
        ),
        Some(Record::VerificationClosed { .. }) => (
            "Verifica chiusa: contributo finale",
            "Verification closed: final grant",
        ),
        Some(Record::PaymentRecorded { .. }) => ("Pagamento", "Payment"),
        Some(Record::ReportDeadlineExtended { .. }) => (
            "Termine del rendiconto prorogato",
            "Report deadline extended",
        ),
        None => ("Voce illeggibile", "Unreadable entry"),
    };
    if locale == Locale::It { it } else { en }
}

/// `2 giorni, 3 ore, 4 minuti e 5 secondi`; the same words as `app.js`.
pub fn duration(total_secs: i64, locale: Locale) -> String {
    let s = total_secs.max(0);
    let parts = [
        (s / 86_400, ("giorno", "giorni"), ("day", "days")),
        ((s / 3600) % 24, ("ora", "ore"), ("hour", "hours")),
        ((s / 60) % 60, ("minuto", "minuti"), ("minute", "minutes")),
        (s % 60, ("secondo", "secondi"), ("second", "seconds")),
    ];
    let mut words: Vec<String> = Vec::new();
    let mut started = false;
    for (i, (n, it, en)) in parts.into_iter().enumerate() {
        // Leading zero units are left out; the seconds always show.
        if n == 0 && !started && i < 3 {
            continue;
        }
        started = true;
        let (one, many) = if locale == Locale::It { it } else { en };
        words.push(format!("{n} {}", if n == 1 { one } else { many }));
    }
    let and = if locale == Locale::It { " e " } else { " and " };
    match words.len() {
        0 | 1 => words.concat(),
        n => format!("{}{and}{}", words[..n - 1].join(", "), words[n - 1]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration(0, Locale::It), "0 secondi");
        assert_eq!(duration(61, Locale::It), "1 minuto e 1 secondo");
        assert_eq!(
            duration(2 * 86_400 + 3 * 3600 + 5, Locale::It),
            "2 giorni, 3 ore, 0 minuti e 5 secondi"
        );
        assert_eq!(
            duration(3600, Locale::En),
            "1 hour, 0 minutes and 0 seconds"
        );
        assert_eq!(duration(-5, Locale::En), "0 seconds");
    }

    #[test]
    fn the_italian_zone_is_named_in_words() {
        assert_eq!(zone_name("Europe/Rome", Locale::It), "ora italiana");
        assert_eq!(zone_name("Europe/Rome", Locale::En), "Italian time");
        assert_eq!(zone_name("Europe/Berlin", Locale::It), "Europe/Berlin");
    }
}
