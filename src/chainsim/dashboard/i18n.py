"""Dutch and English labels of the dashboard.

Every text the dashboard shows comes from :data:`LABELS` through :func:`t`, so the
language toggle switches all of it. Dutch chain terms follow the Dadermonitor
(signalering, opsporing, dagvaarding, sepot, veroordeling, vrijheidsstraf,
reclasseringstoezicht, recidive).
"""

from __future__ import annotations

from chainsim import chain

LANGUAGES: tuple[str, ...] = ("en", "nl")

LABELS: dict[str, tuple[str, str]] = {
    # app
    "title": ("chainsim — the trafficking chain in a workshop",
              "chainsim — de strafrechtketen mensenhandel in een workshop"),
    "language": ("Nederlands", "English"),
    "levers": ("Levers", "Knoppen"),
    "advanced": ("Advanced: the unknowns", "Geavanceerd: de onbekenden"),
    "advanced_help": ("Nobody knows these; the range is what is plausible. They change "
                      "baseline and levers alike.",
                      "Niemand kent deze waarden; het bereik is wat aannemelijk is. Ze "
                      "veranderen basis en knoppen allebei."),
    "reset_levers": ("Levers to neutral", "Knoppen op neutraal"),
    "start_year": ("Levers take effect from", "Knoppen werken vanaf"),
    # levers
    "lever_probation": ("Probation coverage after prison (base share; more for higher risk)",
                        "Reclasseringstoezicht na vrijheidsstraf (basisaandeel; meer bij hoger "
                        "risico)"),
    "lever_places": ("Probation places (offenders supervised at once; 0 = no limit)",
                     "Plaatsen reclasseringstoezicht (daders tegelijk onder toezicht; "
                     "0 = geen limiet)"),
    "lever_prevention": ("Prevention among young people (fewer under-23s start)",
                         "Preventie onder jongeren (minder starters onder 23)"),
    "lever_capacity": ("Investigation capacity (opsporing per year)",
                       "Opsporingscapaciteit (per jaar)"),
    "lever_evidence": ("Evidence quality: technical dismissals (technisch sepot)",
                       "Bewijskwaliteit: technisch sepot"),
    "lever_sentence": ("Sentence length (vrijheidsstraf)", "Strafduur (vrijheidsstraf)"),
    "lever_inspection": ("Labour-sector inspection (labour exploitation)",
                         "Inspectie kwetsbare sectoren (arbeidsuitbuiting)"),
    "now": ("now", "nu"),
    "fewer": ("fewer", "minder"),
    "of_decisions": ("of OM decisions", "van OM-beslissingen"),
    "months": ("months", "maanden"),
    "per_year": ("per year", "per jaar"),
    "places": ("places", "plaatsen"),
    "no_limit": ("no limit", "geen limiet"),
    # run controls
    "seed": ("Seed", "Seed"),
    "reset": ("Reset", "Opnieuw"),
    "play": ("Play", "Afspelen"),
    "pause": ("Pause", "Pauze"),
    "step": ("Step", "Stap"),
    "skip_burn_in": ("Skip burn-in (to 2015)", "Inloop overslaan (naar 2015)"),
    "speed": ("Speed (months per tick)", "Snelheid (maanden per tik)"),
    "month": ("Month", "Maand"),
    "live_run": ("Live run (agent model)", "Live run (agentmodel)"),
    # tabs
    "tab_chain": ("Chain", "Keten"),
    "tab_time": ("Over time", "In de tijd"),
    "tab_recid": ("Recidivism", "Recidive"),
    "tab_agents": ("Offenders", "Daders"),
    "tab_compare": ("Compare", "Vergelijken"),
    "tab_workshop": ("Workshop", "Workshop"),
    # chain view
    "funnel_title": ("The chain per year: the source beside the model",
                     "De keten per jaar: de bron naast het model"),
    "source": ("Dadermonitor 2015-2019", "Dadermonitor 2015-2019"),
    "model_window": ("model 2015-2019", "model 2015-2019"),
    "baseline_later": ("baseline {years}", "basis {years}"),
    "current_later": ("levers {years}", "knoppen {years}"),
    "small_counts": ("Counts below 10 are shown as <10 beside the source's figures.",
                     "Aantallen onder 10 staan als <10 naast de cijfers van de bron."),
    "figure": ("figure", "cijfer"),
    "labour_summoned": ("labour exploitation: summoned", "arbeidsuitbuiting: dagvaarding"),
    "labour_convicted": ("labour exploitation: convicted", "arbeidsuitbuiting: veroordeling"),
    "projection_note": ("Projection: one run of the fast engine with this seed (the live "
                        "run follows it exactly).",
                        "Projectie: één run van de snelle engine met deze seed (de live run "
                        "volgt die precies)."),
    # over time
    "stages_title": ("Offenders per stage (live run)", "Daders per fase (live run)"),
    "flows_title": ("Flows per year: {metric}", "Stromen per jaar: {metric}"),
    "live": ("live run", "live run"),
    "offenders": ("offenders", "daders"),
    "baseline": ("baseline", "basis"),
    "current": ("levers", "knoppen"),
    "metric": ("Metric", "Maat"),
    # recidivism
    "recid_title": ("Recidivism after release or sanction from {start} (cumulative share)",
                    "Recidive na vrijlating of sanctie vanaf {start} (cumulatief aandeel)"),
    "observed_general": ("observed general recidivism", "geregistreerde algemene recidive"),
    "observed_specific": ("observed specific recidivism (trafficking)",
                          "geregistreerde specifieke recidive (mensenhandel)"),
    "true": ("true reoffending (model only)", "werkelijke recidive (alleen in het model)"),
    "years_since": ("years since release or sanction", "jaren na vrijlating of sanctie"),
    "recid_note": ("Observed recidivism counts what registers, dated at the offence (WODC): "
                   "a new case whose offence falls in the window and is registered within a "
                   "year after it. It rises with detection effort even when true reoffending "
                   "falls.",
                   "Geregistreerde recidive telt wat in beeld komt, gedateerd op de pleegdatum "
                   "(WODC): een nieuwe zaak met pleegdatum in de periode, geregistreerd binnen "
                   "een jaar daarna. Die stijgt met de opsporingsinspanning, ook als werkelijke "
                   "recidive daalt."),
    # agents
    "agents_title": ("Offenders by stage now (click one)",
                     "Daders per fase nu (klik er een aan)"),
    "more": ("+{n} more", "+{n} meer"),
    "history_title": ("Life history of offender {id}", "Levensloop van dader {id}"),
    "no_selection": ("Click an offender to see its life history.",
                     "Klik op een dader om de levensloop te zien."),
    "date": ("date", "datum"),
    "stage": ("stage", "fase"),
    "event": ("event", "gebeurtenis"),
    "detail": ("detail", "detail"),
    "form": ("form", "vorm"),
    "sex": ("sex", "geslacht"),
    "age_group": ("age at offence", "leeftijd bij delict"),
    "sentence_months": ("sentence {n} months", "straf {n} maanden"),
    "served_months": ("served {n} months", "{n} maanden uitgezeten"),
    "supervision_months": ("supervision {n} months", "toezicht {n} maanden"),
    "supervision_refused": ("supervision {n} months ordered, no place",
                            "toezicht {n} maanden opgelegd, geen plaats"),
    # compare
    "compare_title": ("Baseline and levers side by side", "Basis en knoppen naast elkaar"),
    "reps": ("Replications", "Replicaties"),
    "run_compare": ("Run comparison", "Vergelijking draaien"),
    "uncertainty": ("Parameter uncertainty (posterior ensemble)",
                    "Parameteronzekerheid (posterior-ensemble)"),
    "uncertainty_note": ("Each replication uses another parameter set that reproduces the "
                         "Dadermonitor's figures: the bands and intervals then include what "
                         "the data leave open about the parameters. The 95% CI is that of the "
                         "average difference; single parameter sets can differ more (the "
                         "last column shows how much).",
                         "Elke replicatie gebruikt een andere parameterset die de cijfers van "
                         "de Dadermonitor reproduceert: de banden en intervallen bevatten dan "
                         "ook wat de data over de parameters openlaten. Het 95%-BI is dat van "
                         "het gemiddelde verschil; afzonderlijke parametersets kunnen meer "
                         "verschillen (de laatste kolom laat zien hoeveel)."),
    "provisional": ("Provisional posterior ensemble:", "Voorlopig posterior-ensemble:"),
    "fixed_note": ("Parameters at their calibrated and central values: the 95% CI shows only "
                   "Monte Carlo error, not what nobody knows about the parameters.",
                   "Parameters op hun gekalibreerde en centrale waarden: het 95%-BI toont "
                   "alleen de Monte-Carlofout, niet wat niemand over de parameters weet."),
    "running": ("Running {done} of {total} replications…",
                "Bezig: {done} van {total} replicaties…"),
    "bands_title": ("{metric}: mean and 90% band over replications",
                    "{metric}: gemiddelde en 90%-band over replicaties"),
    "deltas_title": ("Levers minus baseline, {period} (95% CI, paired)",
                     "Knoppen min basis, {period} (95%-BI, gepaard)"),
    "proxy": ("proxy", "maat"),
    "difference": ("difference", "verschil"),
    "ci": ("95% CI", "95%-BI"),
    "prediction": ("90% over the posterior", "90% over de posterior"),
    "prediction_note": ("'90% over the posterior': the range the effect lies in for 90% of "
                        "the parameter sets that reproduce the Dadermonitor's figures "
                        "(replication noise removed), not the 95% CI of the average "
                        "difference.",
                        "'90% over de posterior': het bereik waarin het effect ligt voor 90% "
                        "van de parametersets die de cijfers van de Dadermonitor reproduceren "
                        "(zonder replicatieruis), niet het 95%-BI van het gemiddelde "
                        "verschil."),
    "not_run": ("Press 'Run comparison' to compute bands with the fast engine.",
                "Druk op 'Vergelijking draaien' om banden te berekenen met de snelle engine."),
    "computed_in": ("computed in {s:.1f} s ({reps} replications per arm)",
                    "berekend in {s:.1f} s ({reps} replicaties per arm)"),
    "stale": ("The levers changed since this comparison: run it again.",
              "De knoppen zijn veranderd sinds deze vergelijking: draai hem opnieuw."),
    # proxies
    "recid_observed_general_2y": ("observed general recidivism, 2 years (%)",
                                  "geregistreerde algemene recidive, 2 jaar (%)"),
    "recid_observed_general_5y": ("observed general recidivism, 5 years (%)",
                                  "geregistreerde algemene recidive, 5 jaar (%)"),
    "recid_observed_specific_2y": ("observed specific recidivism, 2 years (%)",
                                   "geregistreerde specifieke recidive, 2 jaar (%)"),
    "recid_observed_specific_5y": ("observed specific recidivism, 5 years (%)",
                                   "geregistreerde specifieke recidive, 5 jaar (%)"),
    "recid_true_2y": ("true reoffending, 2 years (%)", "werkelijke recidive, 2 jaar (%)"),
    "recid_true_5y": ("true reoffending, 5 years (%)", "werkelijke recidive, 5 jaar (%)"),
    "active_offender_months": ("offender-months of trafficking per year",
                               "dadermaanden mensenhandel per jaar"),
    "victim_months": ("victim-months per year", "slachtoffermaanden per jaar"),
    "prison_months_served": ("custody-months per year (prison, pre-trial, recall)",
                             "detentiemaanden per jaar (straf, voorlopig, herroeping)"),
    "probation_caseload": ("probation caseload (reclasseringstoezicht)",
                           "caseload reclasseringstoezicht"),
    "court_cases": ("court cases (dagvaarding) per year", "dagvaardingen per jaar"),
    "investigations": ("investigations started (opsporing) per year",
                       "gestarte opsporingsonderzoeken per jaar"),
    # workshop
    "preset": ("Facilitator preset (shipped scenario)",
               "Voorinstelling facilitator (meegeleverd scenario)"),
    "preset_interventions": ("Interventions of this preset", "Interventies van dit scenario"),
    "no_interventions": ("none (the status quo)", "geen (de huidige situatie)"),
    "predict_title": ("Predict, then run", "Eerst voorspellen, dan draaien"),
    "predict_help": ("Pick a proxy, write down the room's guesses for the lever settings "
                     "(separated by spaces or semicolons), then run.",
                     "Kies een maat, noteer de schattingen van de zaal voor de huidige "
                     "knoppen (gescheiden door spaties of puntkomma's) en draai dan."),
    "guesses": ("Guesses", "Schattingen"),
    "run_predict": ("Run and reveal", "Draaien en onthullen"),
    "result": ("model: {mean} (95% CI {lo} to {hi}); baseline {base}",
               "model: {mean} (95%-BI {lo} tot {hi}); basis {base}"),
    "guess_vs_result": ("Guesses against the model", "Schattingen tegen het model"),
    "guess": ("guess", "schatting"),
    "bad_guess": ("Could not read: {text}", "Niet te lezen: {text}"),
    "error": ("Problem: {msg}", "Probleem: {msg}"),
}
LABELS.update({m.name: (m.en, m.nl) for m in chain.FLOW_METRICS})
LABELS.update({f"stage_{s.name}": (s.en, s.nl) for s in chain.STAGES})
"""The chain's flow metrics and stages are labelled in the chain table (:mod:`chainsim.chain`)."""
"""Label key -> (English, Dutch)."""


def t(key: str, lang: str = "en", **fmt: object) -> str:
    """The label ``key`` in ``lang`` (``en`` or ``nl``), formatted with ``fmt``.

    Unknown keys are returned as they are (a missing label shows, it does not crash).
    """
    pair = LABELS.get(key)
    if pair is None:
        text = key
    else:
        text = pair[1] if lang == "nl" else pair[0]
    return text.format(**fmt) if fmt else text


def count_label(value: float | None, beside_source: bool = True) -> str:
    """A count for display: ``<10`` below 10 where it sits beside the source's data.

    The Dadermonitor does not publish counts below 10; the dashboard follows that
    rule wherever a model count is shown next to the source's figures.
    """
    if value is None or value != value:  # NaN
        return "–"
    if beside_source and value < 10:
        return "<10"
    return f"{value:,.0f}" if value >= 100 else f"{value:.0f}"
