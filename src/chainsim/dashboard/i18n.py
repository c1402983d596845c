"""Dutch and English text of the dashboard: one catalogue, and numbers in the reader's language.

Every text the dashboard shows comes from :data:`LABELS` through :func:`t`, so the
language toggle switches all of it: the page's own words, the chain's stages and
flows (declared in the chain table, :mod:`chainsim.chain`), life-history events
(``event_<name>``), offender attributes (``form_<name>``, ``sex_<name>``,
``age_<name>``), the unknowns (``unknown_<name>``, with a unit ``unit_<kind>``) and the
shipped scenarios' names (``preset_<stem>``; their descriptions are the scenario
files' ``description`` and ``description_nl``). Dutch chain terms follow the
Dadermonitor (signalering, opsporing, dagvaarding, sepot, veroordeling,
vrijheidsstraf, reclasseringstoezicht, recidive).

Numbers go through :mod:`chainsim.chain.numbers` (Babel): :func:`num` writes
``34,165.8`` in English and ``34.165,8`` in Dutch, :func:`pct` a share as a
percentage. Other dashboard modules (the workshop room) may add their own keys to
:data:`LABELS` with :func:`add_labels`.
"""

from __future__ import annotations

from chainsim import chain
from chainsim.chain import numbers, spec

LANGUAGES: tuple[str, ...] = ("en", "nl")

LABELS: dict[str, tuple[str, str]] = {
    # app
    "title": ("chainsim — the trafficking chain in a workshop",
              "chainsim — de strafrechtketen mensenhandel in een workshop"),
    "language": ("Nederlands", "English"),
    "levers": ("Levers (policy)", "Knoppen (beleid)"),
    "advanced": ("Advanced: what nobody knows", "Geavanceerd: wat niemand weet"),
    "advanced_help": ("Nobody knows these values; the range is what is plausible. They change "
                      "the baseline and the levers alike.",
                      "Niemand kent deze waarden; het bereik is wat aannemelijk is. Ze "
                      "veranderen de basis en de knoppen allebei."),
    "plausible": ("plausible {range}", "aannemelijk {range}"),
    "reset_levers": ("Levers to neutral", "Knoppen op neutraal"),
    "start_year": ("Levers take effect from", "Knoppen werken vanaf"),
    "status_scenario": ("Scenario", "Scenario"),
    "status_levers_neutral": ("levers as in the scenario", "knoppen zoals in het scenario"),
    "status_levers_changed": ("levers changed from {year}:", "knoppen veranderd vanaf {year}:"),
    "status_unknowns": ("{n} unknown(s) changed", "{n} onbekende waarde(n) veranderd"),
    "was": ("scenario: {value}", "scenario: {value}"),
    # levers
    "lever_probation": ("Probation coverage after prison (base share; more for higher risk)",
                        "Reclasseringstoezicht na vrijheidsstraf (basisaandeel; meer bij hoger "
                        "risico)"),
    "lever_places": ("Probation places (offenders supervised at once; 0 = no limit)",
                     "Plaatsen reclasseringstoezicht (daders tegelijk onder toezicht; "
                     "0 = geen limiet)"),
    "lever_prevention": ("Prevention among young people (fewer under-23s start)",
                         "Preventie onder jongeren (minder starters onder 23)"),
    "lever_capacity": ("Investigation capacity (opsporing: investigations per year)",
                       "Opsporingscapaciteit (onderzoeken per jaar)"),
    "lever_evidence": ("Evidence quality: technical dismissals (technisch sepot)",
                       "Bewijskwaliteit: technisch sepot"),
    "lever_sentence": ("Sentence length (vrijheidsstraf)", "Strafduur (vrijheidsstraf)"),
    "lever_inspection": ("Labour-sector inspection (labour exploitation)",
                         "Inspectie kwetsbare sectoren (arbeidsuitbuiting)"),
    "short_probation": ("probation coverage", "reclasseringstoezicht"),
    "short_places": ("probation places", "plaatsen toezicht"),
    "short_prevention": ("prevention", "preventie"),
    "short_capacity": ("investigation capacity", "opsporingscapaciteit"),
    "short_evidence": ("technical dismissals", "technisch sepot"),
    "short_sentence": ("sentence length", "strafduur"),
    "short_inspection": ("labour inspection", "arbeidsinspectie"),
    "now": ("now", "nu"),
    "fewer": ("fewer", "minder"),
    "times_now": ("{factor} × now", "{factor} × nu"),
    "of_decisions": ("of OM decisions", "van OM-beslissingen"),
    "months": ("months", "maanden"),
    "per_year": ("per year", "per jaar"),
    "places": ("places", "plaatsen"),
    "no_limit": ("no limit", "geen limiet"),
    # units of the unknowns (chainsim.chain.spec kinds)
    "unit_rate": ("{v} per year", "{v} per jaar"),
    "unit_probability": ("{v}", "{v}"),
    "unit_hazard": ("{v} per month", "{v} per maand"),
    "unit_months": ("{v} months", "{v} maanden"),
    "unit_years": ("{v} years", "{v} jaar"),
    "unit_cv": ("spread {v} × the mean", "spreiding {v} × het gemiddelde"),
    "unit_factor": ("× {v}", "× {v}"),
    # run controls
    "seed": ("Random seed (which run)", "Toevalsgetal (welke run)"),
    "reset": ("Restart", "Opnieuw"),
    "play": ("Play", "Afspelen"),
    "pause": ("Pause", "Pauze"),
    "step": ("Step", "Stap"),
    "skip_burn_in": ("Skip run-in (to 2015)", "Inloop overslaan (naar 2015)"),
    "speed": ("Speed: {n} months per step", "Snelheid: {n} maanden per stap"),
    "speed_one": ("Speed: 1 month per step", "Snelheid: 1 maand per stap"),
    "month": ("Month", "Maand"),
    "live_run": ("One simulated run, month by month",
                 "Eén gesimuleerde run, maand voor maand"),
    "live_continued": ("Levers changed in {months}: the run went on from there with the new "
                       "levers.",
                       "Knoppen veranderd in {months}: de run ging vanaf daar verder met de "
                       "nieuwe knoppen."),
    "live_restarted": ("The run restarted in 2005: {reason}.",
                       "De run begon opnieuw in 2005: {reason}."),
    "reason_horizon": ("the new scenario covers other years",
                       "het nieuwe scenario beslaat andere jaren"),
    # tabs
    "tab_chain": ("Chain", "Keten"),
    "tab_time": ("Over time", "In de tijd"),
    "tab_recid": ("Recidivism", "Recidive"),
    "tab_agents": ("Offenders", "Daders"),
    "tab_compare": ("Compare", "Vergelijken"),
    "tab_workshop": ("Workshop", "Workshop"),
    # one run and the band
    "one_run": ("One run (random seed {seed}): differences of a few offenders between "
                "baseline and levers can be chance.",
                "Eén run (toevalsgetal {seed}): verschillen van een paar daders tussen basis en "
                "knoppen kunnen toeval zijn."),
    "show_band": ("Show the range over 20 runs", "Toon de spreiding over 20 runs"),
    # chain view
    "funnel_title": ("The chain per year: the source beside the model",
                     "De keten per jaar: de bron naast het model"),
    "source": ("Dadermonitor 2015-2019", "Dadermonitor 2015-2019"),
    "model_window": ("model 2015-2019", "model 2015-2019"),
    "baseline_later": ("baseline {years}", "basis {years}"),
    "current_later": ("levers {years}", "knoppen {years}"),
    "small_counts": ("Counts below 10 are shown as <10 beside the source's figures.",
                     "Aantallen onder 10 staan als <10 naast de cijfers van de bron."),
    "source_column": ("Dadermonitor 2015-2019 (offenders per year)",
                      "Dadermonitor 2015-2019 (daders per jaar)"),
    "model_column": ("model 2015-2019 (offenders per year)", "model 2015-2019 (daders per jaar)"),
    "labour_summoned": ("labour exploitation: summoned", "arbeidsuitbuiting: dagvaarding"),
    "labour_convicted": ("labour exploitation: convicted", "arbeidsuitbuiting: veroordeling"),
    "projection_note": ("Projection: one run of the fast engine with this random seed (the "
                        "simulated run follows it exactly until a lever moves mid-run).",
                        "Projectie: één run van de snelle rekenmethode met dit toevalsgetal (de "
                        "gesimuleerde run volgt die precies tot een knop halverwege verandert)."),
    # over time
    "stages_title": ("Offenders per stage (the simulated run)",
                     "Daders per fase (de gesimuleerde run)"),
    "flows_title": ("Per year: {metric}", "Per jaar: {metric}"),
    "live": ("simulated run", "gesimuleerde run"),
    "offenders": ("offenders", "daders"),
    "baseline": ("baseline", "basis"),
    "current": ("levers", "knoppen"),
    "metric": ("Show", "Toon"),
    # recidivism
    "recid_title": ("Recidivism after release or sanction from {start} (share, cumulative)",
                    "Recidive na vrijlating of sanctie vanaf {start} (aandeel, cumulatief)"),
    "observed_general": ("observed general recidivism", "geregistreerde algemene recidive"),
    "observed_specific": ("observed specific recidivism (trafficking)",
                          "geregistreerde specifieke recidive (mensenhandel)"),
    "true": ("true reoffending (model only)", "werkelijke recidive (alleen in het model)"),
    "years_since": ("years since release or sanction", "jaren na vrijlating of sanctie"),
    "after_years": ("{kind}, after {n} years", "{kind}, na {n} jaar"),
    "share_pct": ("{arm} (% of the group)", "{arm} (% van de groep)"),
    "recid_note": ("Observed recidivism counts what registers, dated at the offence (WODC): "
                   "a new case whose offence falls in the window and is registered within a "
                   "year after it. It rises with detection effort even when true reoffending "
                   "falls.",
                   "Geregistreerde recidive telt wat in beeld komt, gedateerd op de pleegdatum "
                   "(WODC): een nieuwe zaak met pleegdatum in de periode, geregistreerd binnen "
                   "een jaar daarna. Die stijgt met de opsporingsinspanning, ook als werkelijke "
                   "recidive daalt."),
    "window_note": ("Each row counts only the people followed for its whole window (as the "
                    "WODC does), so the 7-year figure rests on earlier releases than the "
                    "2-year one and can even come out lower in a single run.",
                    "Elke rij telt alleen wie de hele termijn gevolgd is (zoals het WODC doet), "
                    "dus het 7-jaarscijfer rust op eerdere vrijlatingen dan het 2-jaarscijfer "
                    "en kan in één run zelfs lager uitvallen."),
    "curve_note": ("The curves follow everyone released or sanctioned in the period and count "
                   "who has reoffended so far; people who leave the picture (the end of the "
                   "run) are counted up to then (Kaplan–Meier).",
                   "De curven volgen iedereen die in de periode is vrijgelaten of een sanctie "
                   "kreeg en tellen wie tot dan toe opnieuw in de fout ging; wie uit beeld "
                   "raakt (einde van de run) telt tot dat moment mee (Kaplan–Meier)."),
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
    "detail": ("detail", "toelichting"),
    "age": ("age", "leeftijd"),
    "form": ("form", "vorm"),
    "sex": ("sex", "geslacht"),
    "age_group": ("age at offence", "leeftijd bij delict"),
    "sentence_months": ("sentence {n} months", "straf {n} maanden"),
    "served_months": ("served {n} months", "{n} maanden uitgezeten"),
    "supervision_months": ("supervision {n} months", "toezicht {n} maanden"),
    "supervision_refused": ("supervision {n} months ordered, no place",
                            "toezicht {n} maanden opgelegd, geen plaats"),
    "under_supervision": ("under supervision", "onder toezicht"),
    # compare
    "compare_title": ("Baseline and levers side by side", "Basis en knoppen naast elkaar"),
    "reps": ("Runs per side: {n} (more runs: narrower intervals, longer wait)",
             "Runs per kant: {n} (meer runs: smallere intervallen, langer wachten)"),
    "run_compare": ("Run comparison", "Vergelijking draaien"),
    "uncertainty": ("Also vary what nobody knows (parameter sets that fit the data)",
                    "Ook variëren wat niemand weet (parametersets die bij de data passen)"),
    "uncertainty_note": ("Each run uses another parameter set that reproduces the "
                         "Dadermonitor's figures: the bands and intervals then include what "
                         "the data leave open about the parameters. The 95% interval is that "
                         "of the average difference; single parameter sets can differ more "
                         "(the last column shows how much).",
                         "Elke run gebruikt een andere parameterset die de cijfers van de "
                         "Dadermonitor reproduceert: de banden en intervallen bevatten dan ook "
                         "wat de data over de parameters openlaten. Het 95%-interval is dat van "
                         "het gemiddelde verschil; afzonderlijke parametersets kunnen meer "
                         "verschillen (de laatste kolom laat zien hoeveel)."),
    "provisional": ("Provisional parameter sets:", "Voorlopige parametersets:"),
    "provisional_detail": ("the sampler has not converged; read the intervals as indicative",
                           "de steekproef is niet geconvergeerd; lees de intervallen als "
                           "indicatief"),
    "fixed_note": ("Parameters at their calibrated and central values: the 95% interval shows "
                   "only the chance variation between runs, not what nobody knows about the "
                   "parameters.",
                   "Parameters op hun gekalibreerde en centrale waarden: het 95%-interval toont "
                   "alleen de toevallige variatie tussen runs, niet wat niemand over de "
                   "parameters weet."),
    "ci_note": ("95% interval: if the comparison were repeated with other random seeds, the "
                "average difference would fall in this range 95 times in 100. Baseline and "
                "levers run on the same random numbers (paired), so the interval is narrow.",
                "95%-interval: als de vergelijking met andere toevalsgetallen herhaald werd, "
                "zou het gemiddelde verschil 95 van de 100 keer in dit bereik vallen. Basis en "
                "knoppen draaien op dezelfde toevalsgetallen (gepaard), dus het interval is "
                "smal."),
    "running": ("Run {done} of {total} ({what})…", "Run {done} van {total} ({what})…"),
    "running_both": ("baseline and levers", "basis en knoppen"),
    "running_levers": ("levers; the baseline is reused", "knoppen; de basis wordt hergebruikt"),
    "running_start": ("Starting the comparison…", "De vergelijking start…"),
    "bands_title": ("{metric}: average and the range of 90% of runs",
                    "{metric}: gemiddelde en het bereik van 90% van de runs"),
    "deltas_title": ("Levers minus baseline, {period} (average over runs, with 95% interval)",
                     "Knoppen min basis, {period} (gemiddelde over runs, met 95%-interval)"),
    "proxy": ("measure", "maat"),
    "difference": ("difference", "verschil"),
    "ci": ("95% interval", "95%-interval"),
    "prediction": ("90% over the parameter sets", "90% over de parametersets"),
    "prediction_note": ("'90% over the parameter sets': the range the effect lies in for 90% of "
                        "the parameter sets that reproduce the Dadermonitor's figures "
                        "(chance variation between runs removed), not the 95% interval of the "
                        "average difference.",
                        "'90% over de parametersets': het bereik waarin het effect ligt voor "
                        "90% van de parametersets die de cijfers van de Dadermonitor "
                        "reproduceren (zonder toevallige variatie tussen runs), niet het "
                        "95%-interval van het gemiddelde verschil."),
    "not_run": ("Press 'Run comparison' to run baseline and levers many times with the fast "
                "engine.",
                "Druk op 'Vergelijking draaien' om basis en knoppen vele keren te draaien met "
                "de snelle rekenmethode."),
    "computed_in": ("computed in {s} s ({reps} runs per side)",
                    "berekend in {s} s ({reps} runs per kant)"),
    "stale": ("The levers changed since this comparison: run it again.",
              "De knoppen zijn veranderd sinds deze vergelijking: draai hem opnieuw."),
    "points": ("points", "procentpunt"),
    # proxies (measures): each with its unit
    "recid_observed_general_2y": ("observed general recidivism within 2 years (%)",
                                  "geregistreerde algemene recidive binnen 2 jaar (%)"),
    "recid_observed_general_5y": ("observed general recidivism within 5 years (%)",
                                  "geregistreerde algemene recidive binnen 5 jaar (%)"),
    "recid_observed_specific_2y": ("observed trafficking recidivism within 2 years (%)",
                                   "geregistreerde recidive mensenhandel binnen 2 jaar (%)"),
    "recid_observed_specific_5y": ("observed trafficking recidivism within 5 years (%)",
                                   "geregistreerde recidive mensenhandel binnen 5 jaar (%)"),
    "recid_true_2y": ("true reoffending within 2 years (%)",
                      "werkelijke recidive binnen 2 jaar (%)"),
    "recid_true_5y": ("true reoffending within 5 years (%)",
                      "werkelijke recidive binnen 5 jaar (%)"),
    "active_offender_months": ("months of trafficking by active offenders, per year",
                               "maanden mensenhandel door actieve daders, per jaar"),
    "victim_months": ("months victims are exploited, per year",
                      "maanden dat slachtoffers worden uitgebuit, per jaar"),
    "prison_months_served": ("months in custody per year (prison, pre-trial, recall)",
                             "maanden in detentie per jaar (straf, voorlopig, herroeping)"),
    "probation_caseload": ("offenders under probation supervision (average at a time)",
                           "daders onder reclasseringstoezicht (gemiddeld tegelijk)"),
    "court_cases": ("court cases (dagvaarding) per year", "dagvaardingen per jaar"),
    "investigations": ("investigations started (opsporing) per year",
                       "gestarte opsporingsonderzoeken per jaar"),
    # workshop
    "preset": ("Scenario to start from (facilitator)",
               "Scenario om van uit te gaan (facilitator)"),
    "preset_loaded": ("Loaded '{name}': the levers went back to neutral (this scenario's own "
                      "settings).",
                      "'{name}' geladen: de knoppen staan weer op neutraal (de eigen "
                      "instellingen van dit scenario)."),
    "preset_interventions": ("What this scenario changes", "Wat dit scenario verandert"),
    "no_interventions": ("nothing (the status quo)", "niets (de huidige situatie)"),
    "predict_title": ("Predict, then run", "Eerst voorspellen, dan draaien"),
    "predict_help": ("Pick a measure, write down the room's guesses for the lever settings "
                     "(separated by semicolons or spaces), then run.",
                     "Kies een maat, noteer de schattingen van de zaal voor de huidige "
                     "knoppen (gescheiden door puntkomma's of spaties) en draai dan."),
    "guesses": ("Guesses, in {unit}, e.g. {example}", "Schattingen, in {unit}, bijv. {example}"),
    "unit_percent": ("%", "%"),
    "unit_number": ("numbers", "aantallen"),
    "run_predict": ("Run and reveal", "Draaien en onthullen"),
    "result": ("model: {mean} (95% interval {lo} to {hi}); baseline {base}",
               "model: {mean} (95%-interval {lo} tot {hi}); basis {base}"),
    "guess_vs_result": ("Guesses against the model", "Schattingen tegen het model"),
    "guess": ("guess", "schatting"),
    "bad_guess": ("Not a number, left out: {text} (write numbers like {example})",
                  "Geen getal, weggelaten: {text} (schrijf getallen als {example})"),
    "error": ("Problem: {msg}", "Probleem: {msg}"),
}
"""Label key -> (English, Dutch)."""

EVENTS: dict[str, tuple[str, str]] = {
    "inflow": ("starts offending", "begint met delicten"),
    "pool": ("offending at the start of the run", "pleegt al delicten bij de start"),
    "signalled": ("signalled to the police", "gesignaleerd bij de politie"),
    "inspected": ("case taken up by an inspectorate", "zaak opgepakt door een inspectie"),
    "investigation_started": ("investigation started", "opsporingsonderzoek gestart"),
    "dropped": ("signal not followed up", "signaal niet opgevolgd"),
    "traced": ("traced, registered at the OM", "opgespoord, ingeschreven bij het OM"),
    "registered_other": ("registered at the OM by another service",
                         "via een andere dienst ingeschreven bij het OM"),
    "summoned": ("summoned to court (dagvaarding)", "gedagvaard"),
    "summoned_detained": ("summoned, in pre-trial detention",
                          "gedagvaard, in voorlopige hechtenis"),
    "technical_dismissal": ("technical dismissal (technisch sepot)", "technisch sepot"),
    "policy_dismissal": ("policy dismissal (beleidssepot)", "beleidssepot"),
    "other_disposal": ("other disposal (joinder, transaction)",
                       "andere afdoening (voeging, transactie)"),
    "convicted": ("convicted", "veroordeeld"),
    "acquitted": ("acquitted", "vrijgesproken"),
    "prison": ("prison sentence", "vrijheidsstraf"),
    "non_custodial": ("sentence without prison", "straf zonder vrijheidsbeneming"),
    "released": ("released from custody", "vrijgelaten"),
    "probation_start": ("probation supervision starts", "reclasseringstoezicht begint"),
    "probation_end": ("probation supervision ends", "reclasseringstoezicht eindigt"),
    "reoffended": ("trafficking again", "opnieuw mensenhandel"),
    "general_offence": ("another kind of offence", "ander soort delict"),
    "general_case": ("new case registered (another offence)",
                     "nieuwe zaak ingeschreven (ander delict)"),
    "desisted": ("stopped offending", "gestopt met delicten"),
    "appealed": ("appeal (hoger beroep)", "hoger beroep"),
    "appealed_detained": ("appeal, in pre-trial detention", "hoger beroep, voorlopig gehecht"),
    "resumed": ("offending again after the case", "na de zaak weer actief"),
    "exposed": ("trafficking exposed by another case", "mensenhandel aan het licht via andere "
                "zaak"),
    "revoked": ("supervision revoked, back in custody", "toezicht herroepen, terug in detentie"),
    "probation_refused": ("supervision ordered, no place", "toezicht opgelegd, geen plaats"),
}
"""Life-history events (:class:`chainsim.chain.spec.Event`), keyed ``event_<name>``."""

FORMS: dict[str, tuple[str, str]] = {
    "domestic_sexual": ("domestic sexual exploitation", "binnenlandse seksuele uitbuiting"),
    "cross_border_sexual": ("cross-border sexual exploitation",
                            "grensoverschrijdende seksuele uitbuiting"),
    "labour": ("labour exploitation", "arbeidsuitbuiting"),
    "criminal": ("criminal exploitation", "criminele uitbuiting"),
    "other": ("other or unknown form", "andere of onbekende vorm"),
}
SEXES: dict[str, tuple[str, str]] = {"male": ("male", "man"), "female": ("female", "vrouw")}
AGES: dict[str, tuple[str, str]] = {"under23": ("under 23", "jonger dan 23"),
                                    "23plus": ("23 or older", "23 of ouder")}

UNKNOWNS: dict[str, tuple[str, str]] = {
    "inflow_rate": ("New offenders starting per year", "Nieuwe daders per jaar"),
    "prior_conviction_share": ("New offenders with earlier convictions",
                               "Nieuwe daders met eerdere veroordelingen"),
    "adult_onset_excess_years": ("Age at start above 23, for adult starters (average)",
                                 "Startleeftijd boven 23, voor volwassen starters (gemiddeld)"),
    "desistance_hazard": ("Chance an active offender (aged 30) stops for good",
                          "Kans dat een actieve dader (30 jaar) definitief stopt"),
    "desistance_age_factor": ("Stopping: change per ten years of age",
                              "Stoppen: verandering per tien levensjaren"),
    "known_signal_factor": ("Known offenders come into view faster",
                            "Bekende daders komen sneller in beeld"),
    "supervised_signal_factor": ("Offenders under supervision come into view faster",
                                 "Daders onder toezicht komen sneller in beeld"),
    "exposure_share": ("Other offences that expose the trafficking",
                       "Andere delicten die de mensenhandel blootleggen"),
    "investigation_months": ("Length of an investigation", "Duur van een opsporingsonderzoek"),
    "om_decision_months": ("Time to the OM's decision", "Tijd tot de OM-beslissing"),
    "policy_dismissal_share": ("OM decisions that are policy dismissals",
                               "OM-beslissingen die beleidssepot zijn"),
    "other_disposal_share": ("OM decisions that are other disposals",
                             "OM-beslissingen met een andere afdoening"),
    "pretrial_detention_share": ("Suspects held in pre-trial detention",
                                 "Verdachten in voorlopige hechtenis"),
    "resume_share": ("Back to offending at once after a dismissal or acquittal",
                     "Direct weer actief na sepot of vrijspraak"),
    "trial_months": ("Time from summons to judgment", "Tijd van dagvaarding tot vonnis"),
    "appeal_share": ("Convictions appealed", "Veroordelingen in hoger beroep"),
    "appeal_months": ("Length of an appeal", "Duur van een hoger beroep"),
    "appeal_cv": ("Spread of appeal lengths", "Spreiding van de duur van hoger beroep"),
    "appeal_acquittal_share": ("Appeals ending in acquittal",
                               "Hoger beroep eindigt in vrijspraak"),
    "prison_months_cv": ("Spread of prison terms", "Spreiding van de strafduur"),
    "adolescent_law_share": ("18-22-year-olds sentenced under juvenile law",
                             "18-22-jarigen berecht volgens het jeugdstrafrecht"),
    "juvenile_sentence_factor": ("Custody under juvenile law, relative to adult law",
                                 "Detentie onder jeugdstrafrecht, ten opzichte van volwassenen"),
    "probation_months": ("Length of probation supervision", "Duur van reclasseringstoezicht"),
    "supervision_risk_factor": ("More supervision per risk point",
                                "Meer toezicht per risicopunt"),
    "revocation_hazard": ("Chance supervision is revoked (back to custody)",
                          "Kans dat toezicht wordt herroepen (terug in detentie)"),
    "recall_months": ("Time back in custody after revocation",
                      "Tijd terug in detentie na herroeping"),
    "reoffend_hazard": ("Chance of trafficking again after the chain",
                        "Kans op opnieuw mensenhandel na de keten"),
    "general_offence_hazard": ("Chance of another kind of offence after the chain",
                               "Kans op een ander delict na de keten"),
    "general_registration_prob": ("Such offences registered as a new case",
                                  "Zulke delicten ingeschreven als nieuwe zaak"),
    "post_desistance_hazard": ("Chance of stopping for good after the chain (aged 30)",
                               "Kans om na de keten definitief te stoppen (30 jaar)"),
    "probation_hazard_ratio": ("Reoffending under supervision, relative to without",
                               "Recidive onder toezicht, ten opzichte van zonder"),
    "prior_hazard_factor": ("Reoffending: more per earlier conviction",
                            "Recidive: meer per eerdere veroordeling"),
    "victims_per_offender": ("Victims per active offender at a time",
                             "Slachtoffers per actieve dader tegelijk"),
}
"""The unknowns' plain names (their unit comes from the parameter's kind)."""

PARAMETERS: dict[str, tuple[str, str]] = {
    "inflow_rate": ("new offenders per year", "nieuwe daders per jaar"),
    "inspection_hazard": ("cases taken up by inspectorates", "zaken opgepakt door inspecties"),
    "investigation_capacity": ("investigation capacity per year",
                               "opsporingscapaciteit per jaar"),
    "post_desistance_hazard": ("stopping for good after the chain",
                               "definitief stoppen na de keten"),
    "probation_capacity": ("probation places", "plaatsen reclasseringstoezicht"),
    "probation_share_other": ("supervision with suspended sentences",
                              "toezicht bij voorwaardelijke straffen"),
    "probation_share_prison": ("supervision after prison", "toezicht na vrijheidsstraf"),
    "reoffend_hazard": ("trafficking again after the chain",
                        "opnieuw mensenhandel na de keten"),
    "signal_hazard": ("signals to the police", "signalen bij de politie"),
    "technical_dismissal_share": ("technical dismissals", "technisch sepot"),
    "prison_months_mean": ("sentence length", "strafduur"),
}
"""Parameters the shipped scenarios and the levers change, in words (``param_<name>``)."""

INTERVENTION_TEXT: dict[str, tuple[str, str]] = {
    "iv_set": ("{what}: {value} from {start}", "{what}: {value} vanaf {start}"),
    "iv_multiply": ("{what}: × {value} from {start}", "{what}: × {value} vanaf {start}"),
    "iv_add": ("{what}: {value} added from {start}", "{what}: {value} erbij vanaf {start}"),
    "iv_ramp": ("phased in over {n} months", "ingevoerd over {n} maanden"),
    "iv_until": ("until {end}", "tot {end}"),
    "iv_only": ("only {who}", "alleen {who}"),
    "iv_range": ("plausible {lo} to {hi}", "aannemelijk {lo} tot {hi}"),
    "target_supervised": ("under supervision", "onder toezicht"),
    "target_unsupervised": ("not under supervision", "niet onder toezicht"),
}

PRESETS: dict[str, tuple[str, str]] = {
    "baseline": ("Status quo (baseline)", "Huidige situatie (basis)"),
    "better_evidence": ("Better evidence", "Beter bewijs"),
    "combined": ("All interventions together", "Alle interventies samen"),
    "detection_target_190": ("Detection to the target of 190", "Opsporing naar de norm van 190"),
    "labour_sector_inventory": ("Inventory of vulnerable sectors",
                                "Inventarisatie kwetsbare sectoren"),
    "more_probation": ("More probation supervision", "Meer reclasseringstoezicht"),
    "more_probation_capped": ("More probation, limited places",
                              "Meer reclasseringstoezicht, beperkte plaatsen"),
    "youth_prevention": ("Prevention among young people", "Preventie onder jongeren"),
    "youth_resocialisation": ("Resocialisation of young offenders",
                              "Resocialisatie van jonge daders"),
}
"""Names of the shipped scenarios (presets), keyed ``preset_<file stem>``."""

LABELS.update({f"event_{k}": v for k, v in EVENTS.items()})
LABELS.update({f"form_{k}": v for k, v in FORMS.items()})
LABELS.update({f"sex_{k}": v for k, v in SEXES.items()})
LABELS.update({f"age_{k}": v for k, v in AGES.items()})
LABELS.update({f"unknown_{k}": v for k, v in UNKNOWNS.items()})
LABELS.update({f"preset_{k}": v for k, v in PRESETS.items()})
LABELS.update({f"param_{k}": v for k, v in PARAMETERS.items()})
LABELS.update(INTERVENTION_TEXT)
LABELS.update({m.name: (m.en, m.nl) for m in chain.FLOW_METRICS})
LABELS.update({f"stage_{s.name}": (s.en, s.nl) for s in chain.STAGES})
# The chain's flow metrics and stages are labelled in the chain table (chainsim.chain).

SAME_IN_BOTH: frozenset[str] = frozenset({
    "tab_workshop", "source", "model_window", "status_scenario", "unit_probability",
    "unit_factor", "unit_percent", "was",
})
"""Keys whose English and Dutch text are rightly the same (names, numbers, symbols)."""


def add_labels(labels: dict[str, tuple[str, str]]) -> None:
    """Add (English, Dutch) labels to the catalogue (e.g. from another dashboard module).

    Raises:
        ValueError: If a key exists with another text, or a text is empty.
    """
    for key, pair in labels.items():
        if len(pair) != 2 or not all(text.strip() for text in pair):
            raise ValueError(f"label {key!r} needs an English and a Dutch text")
        if key in LABELS and LABELS[key] != tuple(pair):
            raise ValueError(f"label {key!r} exists with another text")
        LABELS[key] = (pair[0], pair[1])


def t(key: str, lang: str = "en", **fmt: object) -> str:
    """The label ``key`` in ``lang`` (``en`` or ``nl``), formatted with ``fmt``.

    Unknown keys are returned as they are (a missing label shows, it does not crash;
    the tests find them).
    """
    pair = LABELS.get(key)
    if pair is None:
        text = key
    else:
        text = pair[1] if lang == "nl" else pair[0]
    return text.format(**fmt) if fmt else text


def has(key: str) -> bool:
    """Whether ``key`` is in the catalogue."""
    return key in LABELS


def num(value: float | None, lang: str = "en", **kwargs) -> str:
    """A number in the reader's language (:func:`chainsim.chain.numbers.format_number`).

    Without ``decimals``: three significant digits, trailing zeros dropped (``7``,
    ``1.4``, ``0.012``; not ``7.00``, ``1.40``).
    """
    if kwargs.get("decimals") is None and value is not None and value == value and abs(
            value) != float("inf"):
        most = numbers.decimals_for(float(value), kwargs.pop("digits", 3),
                                    kwargs.pop("most", 2))
        places = next(d for d in range(most + 1) if round(value, d) == round(value, most))
        kwargs["decimals"] = places
    return numbers.format_number(value, _lang(lang), **kwargs)


def signed(value: float | None, lang: str = "en", **kwargs) -> str:
    """A change with its sign (``+12``, ``−3,5``)."""
    if value is None:
        return "–"
    return numbers.format_signed(value, _lang(lang), **kwargs)


def pct(share: float | None, lang: str = "en", decimals: int = 0) -> str:
    """A share (0-1) as a percentage: ``47 %`` (``47,9 %`` with a decimal in Dutch)."""
    if share is None or share != share:
        return "–"
    return numbers.format_percent(share, _lang(lang), decimals=decimals)


def _lang(lang: str) -> str:
    return lang if lang in LANGUAGES else "en"


def count_label(value: float | None, beside_source: bool = True, lang: str = "en") -> str:
    """A count for display: ``<10`` below 10 where it sits beside the source's data.

    The Dadermonitor does not publish counts below 10; the dashboard follows that
    rule wherever a model count is shown next to the source's figures. Counts are
    whole numbers with the language's thousands separator (``1,045``; ``1.045``).
    """
    if value is None or value != value:  # NaN
        return "–"
    if beside_source and value < 10:
        return "<10"
    return num(value, lang, decimals=0)


def unknown_value(name: str, value: float, lang: str = "en", high: float | None = None) -> str:
    """An unknown's value with its unit: ``1.2 % per month``, ``600 per year``, ``× 1.4``.

    With ``high`` a range in one unit: ``0.6 – 2.5 % per month``.
    """
    kind = spec.PARAMETERS[name].kind
    share = kind in ("probability", "hazard")

    def one(x: float) -> str:
        return num(100.0 * x, lang) if share else num(x, lang)

    text = one(value) if high is None else f"{one(value)} – {one(high)}"
    return t(f"unit_{kind}", lang, v=f"{text} %" if share else text)
