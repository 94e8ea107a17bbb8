"""The demo company's knowledge base: help articles in Italian and English, plus labelled need -> article pairs.

``write_knowledge_base(out)`` writes ``out/knowledge_base/``:

* ``it/<topic>.md`` and ``en/<topic>.md``: Markdown articles with front matter (``id``, ``lang``, ``title``,
  ``tags``), one per topic: a repair guide per appliance category (the models it covers, their common
  faults, what to check, how to book a repair), delivery problems, returns and refunds, change of
  address, subscriptions and billing, product questions, ordering and payment, and the articles any
  help centre has (warranty, opening hours, loyalty card, signing in, installation, recycling, contacts);
* ``ground_truth/labels.csv``: ``episode_id``, ``intent``, ``topic`` (the article that answers the episode's need, the
  same topic in both languages), for every episode with at least one contact whose answer is known: from
  ``ground_truth/episodes.csv`` and, for repairs, the product of ``ground_truth/facts.csv``. Ground truth
  for scoring retrieval only (``tests/agent/test_knowledge.py``): nothing of it is in the articles.

Everything is fixed text and the catalogue, so the same company always gets the same bytes.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

from .catalog import APPLIANCES, CARRIERS_GB, CARRIERS_IT, PROBLEMS, PRODUCTS, STORES_GB, STORES_IT

# category -> (Italian name, English name, what to check first IT, EN)
_CATEGORY = {
    "dishwasher": (
        "Lavastoviglie",
        "Dishwashers",
        "il filtro sul fondo della vasca e il tubo di scarico",
        "the filter at the bottom of the tub and the drain hose",
    ),
    "washing_machine": (
        "Lavatrici",
        "Washing machines",
        "il filtro della pompa e il bilanciamento del carico",
        "the pump filter and how the load is balanced",
    ),
    "dryer": (
        "Asciugatrici",
        "Tumble dryers",
        "il filtro della lanugine e il contenitore della condensa",
        "the lint filter and the condensed-water container",
    ),
    "fridge": (
        "Frigoriferi",
        "Fridge freezers",
        "la temperatura impostata e la guarnizione della porta",
        "the temperature setting and the door seal",
    ),
    "oven": ("Forni", "Ovens", "il programma selezionato e il timer", "the selected programme and the timer"),
    "hob": (
        "Piani cottura a induzione",
        "Induction hobs",
        "il blocco comandi e le pentole adatte all'induzione",
        "the child lock and whether the pans suit induction",
    ),
    "hood": (
        "Cappe aspiranti",
        "Cooker hoods",
        "i filtri antigrasso e l'interruttore",
        "the grease filters and the switch",
    ),
    "microwave": (
        "Forni a microonde",
        "Microwave ovens",
        "la chiusura dello sportello e il supporto del piatto",
        "that the door closes and the turntable support",
    ),
    "vacuum": (
        "Aspirapolvere senza filo",
        "Cordless vacuum cleaners",
        "la batteria, il filtro e la spazzola",
        "the battery, the filter and the brush",
    ),
    "robot_vacuum": (
        "Robot aspirapolvere",
        "Robot vacuum cleaners",
        "la base di ricarica e i sensori",
        "the charging dock and the sensors",
    ),
    "coffee": (
        "Macchine da caffè automatiche",
        "Bean-to-cup coffee machines",
        "la macinatura e il circuito del latte",
        "the grinder and the milk circuit",
    ),
    "capsule": (
        "Macchine per espresso a capsule",
        "Capsule coffee machines",
        "il serbatoio e la guarnizione",
        "the water tank and its seal",
    ),
    "kettle": ("Bollitori elettrici", "Electric kettles", "la base e il calcare", "the base and limescale"),
    "air_fryer": (
        "Friggitrici ad aria",
        "Air fryers",
        "il cestello e la resistenza",
        "the basket and the heating element",
    ),
}

_GENERIC = {
    "it": [
        "Scollega l'apparecchio dalla corrente per un minuto e riaccendilo.",
        "Controlla {check}.",
        "Se compare un codice di errore, annotalo: serve al tecnico.",
        "Se il problema resta, prenota una riparazione: in garanzia (2 anni dall'acquisto, 5 con l'estensione) "
        "è gratuita. Un tecnico ti contatta entro 48 ore per fissare l'intervento a domicilio; i piccoli "
        "apparecchi si possono portare al banco assistenza di un negozio Elettra Casa.",
    ],
    "en": [
        "Unplug the appliance for a minute and switch it on again.",
        "Check {check}.",
        "If an error code shows, write it down: the engineer needs it.",
        "If the fault persists, book a repair: under warranty (2 years from purchase, 5 with the extension) "
        "it is free. An engineer contacts you within 48 hours to arrange a home visit; small appliances can "
        "be taken to the service desk of any Elettra Home store.",
    ],
}


def _front(topic: str, lang: str, title: str, tags: list[str]) -> str:
    return f"---\nid: {lang}/{topic}\nlang: {lang}\ntitle: {title}\ntags: {', '.join(tags)}\n---\n"


def _repair(category: str, lang: str) -> tuple[str, str]:
    it_name, en_name, check_it, check_en = _CATEGORY[category]
    models = [p.model for p in PRODUCTS if p.category == category]
    names = sorted({(p.name_it if lang == "it" else p.name_en) for p in PRODUCTS if p.category == category})
    faults = [p for p in PROBLEMS if p[0] == category] + [p for p in PROBLEMS if p[0] == "*"]
    if lang == "it":
        title = f"{it_name} Elettra: guasti comuni e riparazione"
        lines = [
            f"# {title}",
            "",
            f"Vale per i modelli {', '.join(models)} ({'; '.join(names)}).",
            "",
            "## Guasti frequenti",
            "",
            *[f"- L'apparecchio {f[1]}." for f in faults],
            "",
            "## Cosa controllare",
            "",
            *[f"{i}. {s.format(check=check_it)}" for i, s in enumerate(_GENERIC["it"], 1)],
            "",
            "## Cosa chiedere al cliente",
            "",
            "Modello (sulla targhetta), data di acquisto o numero d'ordine, il difetto con le sue parole, "
            "un recapito per il tecnico. Non chiedere di nuovo ciò che ha già comunicato.",
        ]
    else:
        title = f"Elettra {en_name.lower()}: common faults and repairs"
        lines = [
            f"# {title}",
            "",
            f"Applies to models {', '.join(models)} ({'; '.join(names)}).",
            "",
            "## Common faults",
            "",
            *[f"- The appliance {f[2]}." for f in faults],
            "",
            "## What to check",
            "",
            *[f"{i}. {s.format(check=check_en)}" for i, s in enumerate(_GENERIC["en"], 1)],
            "",
            "## What to ask the customer",
            "",
            "Model (on the rating plate), purchase date or order number, the fault in their own words, a "
            "phone number for the engineer. Do not ask again for what they already gave.",
        ]
    tags = ["repair", "fault", "warranty", category]
    return title, _front(f"repair-{category.replace('_', '-')}", lang, title, tags) + "\n".join(lines) + "\n"


# topic -> {lang: (title, body)}: the service articles
_ARTICLES: dict[str, dict[str, tuple[str, str]]] = {
    "delivery-problems": {
        "it": (
            "Consegna in ritardo, non riuscita o da riprogrammare",
            "Un ordine online arriva in 2-5 giorni lavorativi; i grandi elettrodomestici su appuntamento con il "
            "corriere ({carriers_it}). Se il cliente aspetta ancora la consegna o nessuno lo ha avvisato del "
            "ritardo: cerca l'ordine (numero IT-AAAA-NNNNNNN), controlla lo stato e il numero di spedizione, "
            "verifica con la logistica la nuova data. Se la consegna non è riuscita (cliente assente, indirizzo "
            "errato, merce danneggiata) riprogramma la consegna con il corriere e conferma la data al cliente. "
            "Se l'ordine risulta consegnato ma il cliente non l'ha ricevuto, apri una verifica con il corriere "
            "(ticket CONS-02) e promettigli una risposta entro 48 ore. Se il ritardo supera 15 giorni il "
            "cliente può annullare l'ordine e ottenere il rimborso.",
        ),
        "en": (
            "Late, failed or rescheduled deliveries",
            "An online order arrives in 2-5 working days; large appliances come by appointment with the courier "
            "({carriers_gb}). If the customer is still waiting for the delivery or nobody told them about a "
            "delay: find the order (number UK-YYYY-NNNNNNN), check its status and tracking number, and agree "
            "the new date with logistics. If the delivery failed (nobody at home, wrong address, damaged goods) "
            "rebook it with the courier and confirm the date to the customer. If the order shows as delivered "
            "but never arrived, open a claim with the courier (ticket CONS-02) and promise an answer within 48 "
            "hours. After a delay of more than 15 days the customer may cancel the order for a full refund.",
        ),
    },
    "returns-refunds": {
        "it": (
            "Resi e rimborsi: restituire un prodotto, prodotto danneggiato o sbagliato, addebiti di ordini annullati",
            "Il cliente può restituire un prodotto (reso) entro 30 giorni dalla consegna: dal sito (area Resi, con "
            "il numero d'ordine) o in qualsiasi negozio con lo scontrino. Prodotto arrivato con un danno evidente "
            "o non è quello ordinato: reso gratuito e rimborso completo, oppure sostituzione. Il ritiro a "
            "domicilio è gratuito per i grandi elettrodomestici. Il rimborso arriva sullo stesso metodo di "
            "pagamento entro 14 giorni dalla ricezione del reso; per un acquisto in negozio il rimborso è "
            "immediato alla cassa. Addebito per un ordine annullato: l'importo viene stornato entro 5 giorni "
            "lavorativi. Se il cliente chiede a che punto è il rimborso, controlla lo stato del reso e la data "
            "in cui il rimborso è stato emesso.",
        ),
        "en": (
            "Returns and refunds: sending a product back, damaged or wrong items, charges for cancelled orders",
            "Customers may return a product within 30 days of delivery: online (Returns area, with the order "
            "number) or in any store with the receipt. An item that arrived visibly damaged or is not what was "
            "ordered: free return and full refund, or a replacement. Collection from home is free for large "
            "appliances. The refund goes back to the same payment method within 14 days of receiving the "
            "return; a store purchase is refunded at the till at once. Charged for an order that was "
            "cancelled: the amount is reversed within 5 working days. If the customer asks where their refund "
            "is, check the return status and the date the refund was issued.",
        ),
    },
    "change-address": {
        "it": (
            "Cambio di indirizzo",
            "Il cliente può aggiornare l'indirizzo di consegna e di fatturazione nell'area personale, sezione "
            "I miei indirizzi. Se il modulo dà errore o non riesce ad accedere, aggiorna tu l'anagrafica "
            "(ticket ANA-30) con il nuovo indirizzo completo di CAP e provincia, e conferma per email. Gli "
            "ordini già spediti restano all'indirizzo precedente: verifica con la logistica se si può deviare "
            "la consegna.",
        ),
        "en": (
            "Changing an address",
            "Customers can update their delivery and billing address in their account, My addresses. If the "
            "form fails or they cannot sign in, update the record yourself (ticket ANA-30) with the full new "
            "address and postcode, and confirm by email. Orders already shipped go to the old address: check "
            "with logistics whether the delivery can be redirected.",
        ),
    },
    "subscriptions-billing": {
        "it": (
            "Abbonamenti: estensione di garanzia e piano filtri, fatture e addebiti",
            "L'estensione di garanzia 3 anni e l'abbonamento filtri acqua 12 mesi si attivano online. Addebito "
            "doppio del canone: verifica i pagamenti e rimborsa quello in più entro 5 giorni. Fattura non "
            "ricevuta: si scarica dall'area personale o la rinvia l'amministrazione. Filtri non arrivati: "
            "controlla la spedizione del piano. Disdetta: l'abbonamento si può disdire in ogni momento, senza "
            "penali, dall'area personale o tramite il servizio clienti.",
        ),
        "en": (
            "Subscriptions: extended warranty and filter plan, invoices and charges",
            "The 3-year extended warranty and the 12-month water filter plan are activated online. Charged "
            "twice for the fee: check the payments and refund the extra one within 5 days. Invoice never "
            "received: it can be downloaded from the account or billing sends it again. Filters never "
            "arrived: check the plan's shipment. Cancelling: the subscription can be cancelled at any time, "
            "with no fee, from the account or through customer care.",
        ),
    },
    "product-questions": {
        "it": (
            "Informazioni prodotto: disponibilità in negozio, prezzi, confronto tra serie, consegna e "
            "installazione, ritiro dell'usato, consumi",
            "Domande dei clienti prima di comprare. È disponibile in negozio? Controlla la giacenza del negozio "
            "richiesto ({stores_it}). Quanto costa, che classe energetica ha, quanta energia consuma? Prezzo e "
            "classe energetica sono sulla scheda prodotto. Che differenza c'è con il modello della serie "
            "superiore? I modelli della serie superiore hanno consumi minori e più programmi: usa la tabella di "
            "confronto della scheda. Quanto costa la consegna con installazione? Gratuita per i grandi "
            "elettrodomestici sopra 399 euro. Fate il ritiro dell'usato se compro un nuovo elettrodomestico? "
            "Sì, il ritiro dell'usato è gratuito alla consegna. Va bene per una famiglia di quattro persone? "
            "Dimensioni e capacità sono nella scheda tecnica.",
        ),
        "en": (
            "Product information: store availability, prices, comparing series, delivery and installation, "
            "taking away the old appliance, energy use",
            "Questions customers ask before buying. Is it available in the store? Check the stock of the store "
            "asked about ({stores_gb}). How much is it, what is the energy rating, how much energy does it use? "
            "Price and energy rating are on the product page. What's the difference with the higher series? "
            "Models of the higher series use less energy and have more programmes: use the comparison table on "
            "the product page. How much is delivery with installation? Free for large appliances over 349 "
            "pounds. Do you take away the old appliance if I buy a new one? Yes, taking away the old appliance "
            "is free on delivery. Is it right for a family of four? Size and capacity are in the "
            "specifications.",
        ),
    },
    "ordering-and-payment": {
        "it": (
            "Ordini e pagamenti online",
            "Il cliente ordina dal sito o dall'app: carrello, checkout, pagamento con carta, PayPal o bonifico. "
            "Se il pagamento non va a buon fine l'ordine resta in attesa 48 ore. La conferma d'ordine arriva "
            "per email con il numero d'ordine; un ordine non ancora spedito si può annullare dall'area "
            "personale.",
        ),
        "en": (
            "Online orders and payment",
            "Customers order on the website or in the app: basket, checkout, payment by card, PayPal or bank "
            "transfer. If a payment fails the order waits 48 hours. The order confirmation comes by email with "
            "the order number; an order not yet shipped can be cancelled from the account.",
        ),
    },
    "warranty-conditions": {
        "it": (
            "Condizioni di garanzia",
            "Tutti i prodotti hanno 2 anni di garanzia legale dalla data di acquisto; con l'estensione di "
            "garanzia diventano 5. Serve la prova d'acquisto (scontrino o numero d'ordine). La garanzia non "
            "copre danni da uso improprio, calcare o parti soggette a usura.",
        ),
        "en": (
            "Warranty terms",
            "Every product has a 2-year warranty from the purchase date; 5 years with the extended warranty. "
            "Proof of purchase is needed (receipt or order number). The warranty does not cover misuse, "
            "limescale or wear parts.",
        ),
    },
    "store-hours": {
        "it": (
            "Negozi e orari",
            "I negozi Elettra Casa ({stores_it}) sono aperti dal lunedì al sabato dalle 9:30 alle 19:30. Il "
            "banco assistenza ritira i piccoli apparecchi da riparare.",
        ),
        "en": (
            "Stores and opening hours",
            "Elettra Home stores ({stores_gb}) open Monday to Saturday, 9:30 to 19:30. The service desk takes "
            "small appliances in for repair.",
        ),
    },
    "contact-us": {
        "it": (
            "Come contattarci",
            "Telefono: dal lunedì al venerdì 8-20, sabato 9-14. Chat: tutti i giorni 8-22. Email: "
            "assistenza@elettracasa.example, risposta entro 48 ore lavorative. Social: @ElettraCasa.",
        ),
        "en": (
            "How to reach us",
            "Phone: Monday to Friday 8-20, Saturday 9-14. Chat: every day 8-22. Email: "
            "customercare@elettrahome.example, answered within 48 working hours. Social: @ElettraHomeUK.",
        ),
    },
    "loyalty-card": {
        "it": (
            "Carta fedeltà",
            "La carta fedeltà Elettra dà un punto per ogni euro speso in negozio e online; si richiede alla "
            "cassa o dall'app. I punti si vedono nell'area personale.",
        ),
        "en": (
            "Loyalty card",
            "The Elettra loyalty card earns a point for every pound spent in store and online; ask for it at "
            "the till or in the app. Points show in the account.",
        ),
    },
    "sign-in-help": {
        "it": (
            "Problemi di accesso all'area personale",
            "Password errata o dimenticata: usa Recupera password, arriva un link via email valido 24 ore. "
            "Dopo 5 tentativi l'account si blocca per 15 minuti.",
        ),
        "en": (
            "Cannot sign in to the account",
            "Wrong or forgotten password: use Reset password, a link valid for 24 hours comes by email. After 5 "
            "attempts the account locks for 15 minutes.",
        ),
    },
    "recycling": {
        "it": (
            "Smaltimento RAEE e riciclo",
            "Gli apparecchi elettrici usati (RAEE) si consegnano gratis in negozio, uno contro uno all'acquisto "
            "di un prodotto equivalente, o uno contro zero per i piccoli apparecchi.",
        ),
        "en": (
            "Recycling old appliances (WEEE)",
            "Used electrical appliances (WEEE) can be left free of charge in store, one for one when buying an "
            "equivalent product, or for nothing for small appliances.",
        ),
    },
}

#: the intent of a demo episode -> the topic that answers it (repairs: per product category)
INTENT_TOPIC = {
    "delivery_problem": "delivery-problems",
    "refund": "returns-refunds",
    "address_change": "change-address",
    "subscription": "subscriptions-billing",
    "info": "product-questions",
    "purchase": "ordering-and-payment",
}


def articles() -> dict[str, str]:
    """``{relative path: Markdown}`` of every article."""
    fill = {
        "carriers_it": ", ".join(CARRIERS_IT),
        "carriers_gb": ", ".join(CARRIERS_GB),
        "stores_it": ", ".join(s.name for s in STORES_IT),
        "stores_gb": ", ".join(s.name for s in STORES_GB),
    }
    out: dict[str, str] = {}
    for cat in sorted({p.category for p in APPLIANCES} | {"kettle"}):
        for lang in ("it", "en"):
            _, text = _repair(cat, lang)
            out[f"{lang}/repair-{cat.replace('_', '-')}.md"] = text
    for topic, by_lang in _ARTICLES.items():
        for lang, (title, body) in by_lang.items():
            text = _front(topic, lang, title, [topic]) + f"# {title}\n\n{body.format(**fill)}\n"
            out[f"{lang}/{topic}.md"] = text
    return dict(sorted(out.items()))


def labels(ground_truth: Path) -> list[tuple[str, str, str]]:
    """(episode_id, intent, topic) for every episode with a contact whose answer is known."""
    model_cat = {p.model: p.category for p in PRODUCTS}
    product: dict[str, str] = {}
    with (ground_truth / "facts.csv").open(encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            if r["fact_kind"] == "product" and r["value"] in model_cat:
                product.setdefault(r["episode_id"], model_cat[r["value"]])
    out = []
    with (ground_truth / "episodes.csv").open(encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            if not r["n_contacts"] or int(r["n_contacts"]) == 0:
                continue
            intent = r["intent"]
            if intent == "repair":
                cat = product.get(r["episode_id"])
                if cat is None:
                    continue
                topic = f"repair-{cat.replace('_', '-')}"
            elif intent in INTENT_TOPIC:
                topic = INTENT_TOPIC[intent]
            else:
                continue
            out.append((r["episode_id"], intent, topic))
    return out


def write_knowledge_base(out_dir: str | Path) -> Path:
    """Write ``out_dir/knowledge_base/`` (replacing a previous one); needs ``out_dir/ground_truth/``."""
    root = Path(out_dir) / "knowledge_base"
    if root.is_dir():
        shutil.rmtree(root)
    for rel, text in articles().items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")
    (root / "ground_truth").mkdir()
    with (root / "ground_truth" / "labels.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["episode_id", "intent", "topic"])
        w.writerows(labels(Path(out_dir) / "ground_truth"))
    return root
