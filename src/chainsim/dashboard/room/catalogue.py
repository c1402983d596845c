"""English and Dutch texts of the workshop room (one catalogue, one language per reader).

Kept apart from :mod:`chainsim.dashboard.i18n` (the Solara dashboard's labels) so the
room's pages do not change when the dashboard's texts do. Dutch chain terms follow the
Dadermonitor.
"""

from __future__ import annotations

LANGS: tuple[str, ...] = ("en", "nl")

TEXTS: dict[str, tuple[str, str]] = {
    "title": ("chainsim workshop room", "chainsim workshopruimte"),
    "join_title": ("Join the workshop room", "Doe mee in de workshopruimte"),
    "code": ("Room code", "Ruimtecode"),
    "name": ("Your name (leave empty to stay anonymous)",
             "Je naam (leeg laten om anoniem te blijven)"),
    "language": ("Language", "Taal"),
    "join": ("Join", "Meedoen"),
    "wrong_code": ("That is not this room's code. Check the code on the screen.",
                   "Dat is niet de code van deze ruimte. Kijk naar de code op het scherm."),
    "too_many": ("Too many wrong codes from this device. Wait a few minutes.",
                 "Te veel verkeerde codes vanaf dit apparaat. Wacht een paar minuten."),
    "removed": ("The facilitator removed you from the room.",
                "De begeleider heeft je uit de ruimte verwijderd."),
    "room_full": ("The room is full.", "De ruimte is vol."),
    "not_in_room": ("You are not in the room (or the room was restarted). Join with the code.",
                    "Je zit niet in de ruimte (of de ruimte is opnieuw gestart). Doe mee met "
                    "de code."),
    "not_open": ("The round is closed; your answer was not recorded.",
                 "De ronde is gesloten; je antwoord is niet opgeslagen."),
    "bad_answer": ("That answer does not fit the question; try again.",
                   "Dat antwoord past niet bij de vraag; probeer het opnieuw."),
    "bad_number": ("Type a number, e.g. 42 or 42.5.", "Typ een getal, bijvoorbeeld 42 of 42,5."),
    "anonymous": ("Anonymous", "Anoniem"),
    "you_are": ("You are", "Je bent"),
    "switch_lang": ("Nederlands", "English"),
    "leave": ("Leave", "Verlaten"),
    "waiting": ("Waiting for the facilitator to start a round.",
                "Wachten tot de begeleider een ronde start."),
    "round": ("Round", "Ronde"),
    "your_prediction": ("Your prediction", "Jouw voorspelling"),
    "submit": ("Submit", "Versturen"),
    "change": ("Change my answer", "Antwoord wijzigen"),
    "your_answer": ("Your answer", "Jouw antwoord"),
    "can_change": ("You can change it until the facilitator locks the round.",
                   "Je kunt het wijzigen tot de begeleider de ronde sluit."),
    "no_answer": ("You did not answer this round.", "Je hebt deze ronde niet beantwoord."),
    "locked": ("The round is locked. Waiting for the reveal.",
               "De ronde is gesloten. Wachten op de onthulling."),
    "computing": ("The simulation is still running…", "De simulatie loopt nog…"),
    "failed": ("The simulation failed", "De simulatie is mislukt"),
    "down": ("down", "omlaag"),
    "same": ("no clear change", "geen duidelijke verandering"),
    "up": ("up", "omhoog"),
    "confidence": ("How sure are you?", "Hoe zeker ben je?"),
    "reveal": ("Reveal", "Onthulling"),
    "simulated": ("Simulated", "Gesimuleerd"),
    "band": ("90 % of runs", "90 % van de runs"),
    "ci": ("95 % CI", "95 %-BI"),
    "baseline": ("Baseline (no change)", "Basis (geen verandering)"),
    "baseline_short": ("Baseline", "Basis"),
    "to": ("to", "tot"),
    "name_col": ("Name", "Naam"),
    "bars_note": ("answers · their mean confidence", "antwoorden · gemiddelde zekerheid"),
    "room_predictions": ("The room's predictions", "De voorspellingen van de ruimte"),
    "median": ("median", "mediaan"),
    "answers": ("answers", "antwoorden"),
    "change_vs_baseline": ("Change against the baseline", "Verandering tegenover de basis"),
    "direction_result": ("The simulation says", "De simulatie zegt"),
    "mean_confidence": ("mean confidence", "gemiddelde zekerheid"),
    "reveal_note": ("{reps} runs per arm on common random numbers, {period}; the band is the "
                    "spread of single runs, the CI that of the mean. Results rest on unknowns "
                    "(see the dashboard's Advanced panel).",
                    "{reps} runs per arm met gemeenschappelijke toevalsgetallen, {period}; de "
                    "band is de spreiding van losse runs, het BI die van het gemiddelde. De "
                    "uitkomsten rusten op onbekenden (zie het paneel Geavanceerd van het "
                    "dashboard)."),
    "direction_note": ("'up' or 'down' when the 95 % CI of the paired change excludes zero.",
                       "'omhoog' of 'omlaag' als het 95 %-BI van de gepaarde verandering nul "
                       "uitsluit."),
    # facilitator
    "facilitator": ("Facilitator", "Begeleider"),
    "join_at": ("Join at", "Doe mee via"),
    "new_code": ("New code", "Nieuwe code"),
    "new_code_help": ("Who is in stays in; new joins need the new code.",
                      "Wie binnen is blijft; nieuwe deelnemers hebben de nieuwe code nodig."),
    "answered": ("answered", "beantwoord"),
    "start_round": ("Start round", "Ronde starten"),
    "next_round": ("Next round", "Volgende ronde"),
    "lock": ("Lock", "Sluiten"),
    "reveal_button": ("Reveal", "Onthullen"),
    "question": ("Question", "Vraag"),
    "or_build": ("Or build a question from a scenario and a proxy",
                 "Of maak een vraag van een scenario en een maat"),
    "scenario": ("Scenario", "Scenario"),
    "proxy": ("Proxy", "Maat"),
    "kind": ("Kind", "Soort"),
    "kind_number": ("a number", "een getal"),
    "kind_direction": ("a direction with confidence", "een richting met zekerheid"),
    "kind_package": ("a policy package within a budget", "een beleidspakket binnen een budget"),
    "build": ("Start this question", "Deze vraag starten"),
    "budget_field": ("Budget per year (package rounds)", "Budget per jaar (pakketrondes)"),
    "roster": ("Participants", "Deelnemers"),
    "joined": ("joined", "binnen sinds"),
    "last_activity": ("last activity", "laatste actie"),
    "connected": ("page open", "pagina open"),
    "remove": ("Remove", "Verwijderen"),
    "export": ("Export", "Exporteren"),
    "export_csv": ("Answers and results (CSV)", "Antwoorden en uitkomsten (CSV)"),
    "export_html": ("Summary (HTML)", "Samenvatting (HTML)"),
    "phase_open": ("open, answers coming in", "open, antwoorden komen binnen"),
    "phase_locked": ("locked", "gesloten"),
    "phase_revealed": ("revealed", "onthuld"),
    "no_rounds": ("No round yet. Pick a question and start.",
                  "Nog geen ronde. Kies een vraag en start."),
    "ago": ("{n} s ago", "{n} s geleden"),
    "yes": ("yes", "ja"),
    "no": ("no", "nee"),
    "individual": ("Answers", "Antwoorden"),
    "summary_title": ("chainsim workshop room: session summary",
                      "chainsim workshopruimte: samenvatting van de sessie"),
    # packages
    "budget": ("Budget: at most {budget} a year extra",
               "Budget: hoogstens {budget} per jaar extra"),
    "cost_estimate": ("Estimated extra cost per year", "Geschatte extra kosten per jaar"),
    "over_budget": ("Over budget: take something out.", "Boven budget: haal iets weg."),
    "prices_pending": ("Prices are being computed…", "De prijzen worden berekend…"),
    "packages_ranked": ("Packages ranked by the change in",
                        "Pakketten gerangschikt op de verandering in"),
    "package": ("Package", "Pakket"),
    "chosen_by": ("chosen by", "gekozen door"),
    "extra_cost": ("extra cost per year", "extra kosten per jaar"),
    "nothing": ("no change", "geen verandering"),
    "as_now": ("as now", "zoals nu"),
    "change_note": ("Changes against the baseline per year (2021-2035), 95 % CI in brackets; "
                    "lowest first.",
                    "Verandering tegenover de basis per jaar (2021-2035), 95 %-BI tussen "
                    "haakjes; laagste eerst."),
    "costs_note": ("Costs: the chain's extra workload (unit costs of {file}: placeholders) "
                   "plus each lever's illustrative programme cost. The prices on the form are "
                   "estimated per lever alone; here each package is simulated whole.",
                   "Kosten: de extra werklast in de keten (kosten per eenheid uit {file}: "
                   "voorbeeldwaarden) plus de illustratieve programmakosten van elke knop. De "
                   "prijzen op het formulier zijn per knop apart geschat; hier is elk pakket "
                   "als geheel gesimuleerd."),
}

PROXY_LABELS: dict[str, tuple[str, str]] = {
    "recid_observed_general_2y": ("observed general recidivism, 2 years (%)",
                                  "geregistreerde algemene recidive, 2 jaar (%)"),
    "recid_observed_general_5y": ("observed general recidivism, 5 years (%)",
                                  "geregistreerde algemene recidive, 5 jaar (%)"),
    "recid_observed_general_7y": ("observed general recidivism, 7 years (%)",
                                  "geregistreerde algemene recidive, 7 jaar (%)"),
    "recid_observed_specific_2y": ("observed specific recidivism, 2 years (%)",
                                   "geregistreerde specifieke recidive, 2 jaar (%)"),
    "recid_observed_specific_5y": ("observed specific recidivism, 5 years (%)",
                                   "geregistreerde specifieke recidive, 5 jaar (%)"),
    "recid_observed_specific_7y": ("observed specific recidivism, 7 years (%)",
                                   "geregistreerde specifieke recidive, 7 jaar (%)"),
    "recid_true_2y": ("true reoffending, 2 years (%)", "werkelijke recidive, 2 jaar (%)"),
    "recid_true_5y": ("true reoffending, 5 years (%)", "werkelijke recidive, 5 jaar (%)"),
    "recid_true_7y": ("true reoffending, 7 years (%)", "werkelijke recidive, 7 jaar (%)"),
    "active_offender_months": ("offender-months of trafficking per year",
                               "dadermaanden mensenhandel per jaar"),
    "victim_months": ("victim-months per year", "slachtoffermaanden per jaar"),
    "prison_months_served": ("custody-months per year", "detentiemaanden per jaar"),
    "probation_caseload": ("offenders under probation supervision at once",
                           "daders tegelijk onder reclasseringstoezicht"),
    "court_cases": ("court cases (summonses and appeals) per year",
                    "rechtszaken (dagvaardingen en hoger beroep) per jaar"),
    "investigations": ("investigations started per year",
                       "gestarte opsporingsonderzoeken per jaar"),
}

LEVER_LABELS: dict[str, tuple[str, str]] = {
    "probation": ("Probation after prison (share supervised)",
                  "Reclasseringstoezicht na detentie (aandeel)"),
    "prevention": ("Prevention among young people (fewer under-23 starters)",
                   "Preventie onder jongeren (minder starters onder 23)"),
    "capacity": ("Investigation capacity (per year)", "Opsporingscapaciteit (per jaar)"),
    "evidence": ("Evidence quality (technical dismissals)", "Bewijskwaliteit (technisch sepot)"),
    "inspection": ("Labour-sector inspection", "Inspectie kwetsbare sectoren"),
    "sentence": ("Sentence length", "Strafduur"),
    "places": ("Probation places", "Plaatsen reclasseringstoezicht"),
}


def t(key: str, lang: str, **fmt: object) -> str:
    """The text ``key`` in ``lang`` (``en`` or ``nl``), formatted with ``fmt``."""
    en, nl = TEXTS[key]
    text = nl if lang == "nl" else en
    text = text.format(**fmt) if fmt else text
    return text.replace(" %", "\u00a0%")  # "95 %" stays on one line


def proxy_label(proxy: str, lang: str) -> str:
    """A proxy's name in ``lang``."""
    en, nl = PROXY_LABELS.get(proxy, (proxy, proxy))
    return nl if lang == "nl" else en


def lever_label(lever: str, lang: str) -> str:
    """A lever's name in ``lang``."""
    en, nl = LEVER_LABELS.get(lever, (lever, lever))
    return nl if lang == "nl" else en


def best_lang(accept_language: str | None) -> str:
    """``nl`` if the browser prefers Dutch over English, else ``en``."""
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("nl"):
            return "nl"
        if tag.startswith("en"):
            return "en"
    return "en"
