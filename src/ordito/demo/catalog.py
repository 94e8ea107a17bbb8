"""What Elettra Casa sells and where: products, stores, departments, queues, web pages.

Everything here is fixed (no randomness): the pools that depend on the seed (agents, companies) are
drawn in :mod:`ordito.demo.world`.
"""

from __future__ import annotations

from dataclasses import dataclass

DEPARTMENTS = ("customer_service", "technical_support", "logistics", "billing", "sales")
DEPT_CODE = {
    "customer_service": "CS",
    "technical_support": "TECH",
    "logistics": "LOG",
    "billing": "BILL",
    "sales": "SALES",
}
# IVR menu digits and the department each leads to (the same menu in both sites).
IVR_MENU = {"1": "logistics", "2": "technical_support", "3": "billing", "4": "sales", "9": "customer_service"}
IVR_DIGIT = {v: k for k, v in IVR_MENU.items()}

INTENTS = (
    "purchase",
    "delivery_problem",
    "repair",
    "refund",
    "address_change",
    "subscription",
    "info",
    "browse",
)
# The department that can actually solve each need.
INTENT_DEPT = {
    "purchase": "sales",
    "delivery_problem": "logistics",
    "repair": "technical_support",
    "refund": "billing",
    "address_change": "customer_service",
    "subscription": "billing",
    "info": "sales",
    "browse": "sales",
}
# The CRM's own categories.
CRM_CATEGORY = {
    "delivery_problem": ("CONS-01 Ritardo consegna", "CONS-02 Consegna fallita"),
    "repair": ("TEC-10 Guasto prodotto", "TEC-12 Intervento tecnico"),
    "refund": ("AMM-20 Reso e rimborso",),
    "address_change": ("ANA-30 Variazione anagrafica",),
    "subscription": ("ABB-40 Abbonamenti e garanzie",),
    "info": ("COM-50 Informazioni prodotto",),
    "purchase": ("COM-51 Supporto acquisto",),
}


@dataclass(frozen=True, slots=True)
class Product:
    sku: str
    model: str
    category: str
    name_it: str
    name_en: str
    price_eur: float
    price_gbp: float
    big: bool  # delivered by courier with an appointment
    article_it: str = "il"  # Italian article of the noun: il, la, l'f (feminine), l'm (masculine)


# (category, Italian noun, English noun, model prefix, base EUR price, big, Italian article of the noun)
_CATEGORIES = (
    ("dishwasher", "Lavastoviglie", "Dishwasher", "DW", 549.0, True, "la"),
    ("washing_machine", "Lavatrice", "Washing machine", "WM", 499.0, True, "la"),
    ("dryer", "Asciugatrice a pompa di calore", "Heat-pump tumble dryer", "TD", 629.0, True, "l'f"),
    ("fridge", "Frigorifero combinato", "Fridge freezer", "FF", 749.0, True, "il"),
    ("oven", "Forno da incasso", "Built-in oven", "OV", 459.0, True, "il"),
    ("hob", "Piano cottura a induzione", "Induction hob", "IH", 399.0, False, "il"),
    ("hood", "Cappa aspirante", "Cooker hood", "CH", 289.0, False, "la"),
    ("microwave", "Forno a microonde", "Microwave oven", "MW", 169.0, False, "il"),
    ("vacuum", "Aspirapolvere senza filo", "Cordless vacuum cleaner", "VC", 249.0, False, "l'm"),
    ("robot_vacuum", "Robot aspirapolvere", "Robot vacuum cleaner", "RV", 399.0, False, "il"),
    ("coffee", "Macchina da caffè automatica", "Bean-to-cup coffee machine", "CM", 449.0, False, "la"),
    ("capsule", "Macchina per espresso a capsule", "Capsule coffee machine", "CP", 119.0, False, "la"),
    ("kettle", "Bollitore elettrico", "Electric kettle", "KT", 49.0, False, "il"),
    ("air_fryer", "Friggitrice ad aria", "Air fryer", "AF", 129.0, False, "la"),
)
_SERIES = (("3", 0.82, "0"), ("5", 1.0, "4"), ("7", 1.28, "8"))

PRODUCTS: tuple[Product, ...] = tuple(
    Product(
        sku=f"{pre}-{series}{n:02d}{suffix}",
        model=f"{pre}{series}{n:02d}{suffix}",
        category=cat,
        name_it=f"{it} Elettra Serie {series} {pre}{series}{n:02d}{suffix}",
        name_en=f"Elettra Series {series} {pre}{series}{n:02d}{suffix} {en.lower()}",
        price_eur=round(base * mult + n * 10 - 0.01, 2),
        price_gbp=round((base * mult + n * 10) * 0.86 - 0.01, 2),
        big=big,
        article_it=art,
    )
    for cat, it, en, pre, base, big, art in _CATEGORIES
    for series, mult, n_digit in _SERIES
    for n, suffix in ((int(n_digit) + 10, "X"), (int(n_digit) + 20, "W"))
)
APPLIANCES = tuple(p for p in PRODUCTS if p.category not in ("kettle",))

ACCESSORIES = (
    Product(
        "ACC-FLT01",
        "FLT01",
        "accessory",
        "Filtro acqua per frigorifero",
        "Fridge water filter",
        34.9,
        29.9,
        False,
    ),
    Product(
        "ACC-DSC02",
        "DSC02",
        "accessory",
        "Decalcificante per macchina da caffè",
        "Coffee machine descaler",
        14.9,
        12.9,
        False,
    ),
    Product(
        "ACC-BAG05",
        "BAG05",
        "accessory",
        "Sacchetti per aspirapolvere (5 pz)",
        "Vacuum bags (5 pack)",
        12.9,
        10.9,
        False,
    ),
    Product(
        "ACC-BSK03",
        "BSK03",
        "accessory",
        "Cestello posate lavastoviglie",
        "Dishwasher cutlery basket",
        24.9,
        21.9,
        False,
    ),
)
SUBSCRIPTIONS = (
    Product(
        "SUB-GAR3Y",
        "GARANZIA3",
        "subscription",
        "Estensione di garanzia 3 anni",
        "3-year extended warranty",
        89.0,
        79.0,
        False,
    ),
    Product(
        "SUB-FLT12",
        "FILTRI12",
        "subscription",
        "Abbonamento filtri acqua 12 mesi",
        "12-month water filter plan",
        59.0,
        52.0,
        False,
    ),
)
BY_SKU = {p.sku: p for p in PRODUCTS + ACCESSORIES + SUBSCRIPTIONS}

# Appliance faults: (category or "*", Italian, English).
PROBLEMS = (
    ("dishwasher", "non scarica l'acqua", "won't drain"),
    ("dishwasher", "perde acqua dal fondo", "leaks water from the bottom"),
    ("dishwasher", "mostra l'errore E24", "shows error E24"),
    ("dishwasher", "non asciuga le stoviglie", "doesn't dry the dishes"),
    ("washing_machine", "non fa girare il cestello", "won't spin"),
    ("washing_machine", "fa un rumore fortissimo in centrifuga", "is very loud on the spin cycle"),
    ("washing_machine", "ha l'oblò bloccato", "has its door stuck shut"),
    ("washing_machine", "mostra l'errore F05", "shows error F05"),
    ("dryer", "non asciuga più", "doesn't dry any more"),
    ("dryer", "si ferma dopo dieci minuti", "stops after ten minutes"),
    ("fridge", "non raffredda", "isn't cooling"),
    ("fridge", "forma ghiaccio nel vano frigo", "builds up ice in the fridge"),
    ("fridge", "ha la guarnizione della porta rotta", "has a broken door seal"),
    ("oven", "non si scalda", "doesn't heat up"),
    ("oven", "ha la ventola rumorosissima", "has a very noisy fan"),
    ("hob", "ha una zona di cottura che non funziona", "has a cooking zone that doesn't work"),
    ("hood", "ha il motore che non parte", "has a motor that won't start"),
    ("microwave", "non fa girare il piatto", "doesn't turn the plate"),
    ("vacuum", "ha la batteria che dura cinque minuti", "has a battery that lasts five minutes"),
    ("vacuum", "non aspira più", "has lost suction"),
    ("robot_vacuum", "non torna alla base di ricarica", "doesn't go back to its dock"),
    ("coffee", "non macina il caffè", "doesn't grind the beans"),
    ("coffee", "non monta il latte", "doesn't froth the milk"),
    ("capsule", "perde acqua dal serbatoio", "leaks from the water tank"),
    ("air_fryer", "ha il cestello deformato", "has a warped basket"),
    ("*", "non si accende", "won't switch on"),
    ("*", "ha il display sempre spento", "has a blank display"),
)


def problems_for(category: str) -> tuple[tuple[str, str, str], ...]:
    own = tuple(p for p in PROBLEMS if p[0] == category)
    return own + tuple(p for p in PROBLEMS if p[0] == "*")


@dataclass(frozen=True, slots=True)
class Store:
    store_id: str
    name: str
    city: str
    country: str
    staff: int


STORES = (
    Store("MI01", "Milano Duomo", "Milano", "IT", 9),
    Store("MI02", "Milano Bicocca", "Milano", "IT", 6),
    Store("RM01", "Roma EUR", "Roma", "IT", 8),
    Store("RM02", "Roma Tiburtina", "Roma", "IT", 6),
    Store("TO01", "Torino Lingotto", "Torino", "IT", 5),
    Store("NA01", "Napoli Vomero", "Napoli", "IT", 5),
    Store("BO01", "Bologna Centro", "Bologna", "IT", 4),
    Store("FI01", "Firenze Novoli", "Firenze", "IT", 4),
    Store("LDN1", "London Oxford Street", "London", "GB", 9),
    Store("LDN2", "London Westfield", "London", "GB", 7),
    Store("MAN1", "Manchester Arndale", "Manchester", "GB", 5),
    Store("BHM1", "Birmingham Bullring", "Birmingham", "GB", 5),
    Store("GLA1", "Glasgow Buchanan", "Glasgow", "GB", 4),
)
STORES_IT = tuple(s for s in STORES if s.country == "IT")
STORES_GB = tuple(s for s in STORES if s.country == "GB")

CARRIERS_IT = ("BRT", "GLS", "SDA", "Poste Italiane")
CARRIERS_GB = ("DPD", "Evri", "Royal Mail", "Yodel")

MAILBOX = {"IT": "assistenza@elettracasa.example", "GB": "customercare@elettrahome.example"}
MAILBOX_NAME = {"IT": "assistenza", "GB": "customercare"}
MAIL_HOST = {"IT": "mail.elettracasa.example", "GB": "mail.elettrahome.example"}
BRAND_HANDLE = {"IT": "@ElettraCasa", "GB": "@ElettraHomeUK"}
BRAND_NAME = {"IT": "Elettra Casa", "GB": "Elettra Home"}
SITE = {"IT": "MILANO", "GB": "LONDON"}


# --- web pages ------------------------------------------------------------------------------------


class Page:
    """A web page; ``body`` is its ``page_url,page_title`` (CSV-safe), ``pv`` its plain page-view hit
    (event, ``event,page_url,...,currency``)."""

    __slots__ = ("url", "title", "country", "body", "pv")

    def __init__(self, url: str, title: str) -> None:
        assert not any(c in url + title for c in ',"\n'), (url, title)
        self.url = url
        self.title = title
        self.country = "GB" if "elettrahome" in url else "IT"
        self.body = f"{url},{title}"
        self.pv = ("page_view", f"page_view,{url},{title},,,,,")


def _site(country: str) -> str:
    return (
        "https://www.elettracasa.example/it" if country == "IT" else "https://www.elettrahome.example/en-gb"
    )


_CAT_SLUG = {
    "IT": {
        "dishwasher": ("lavastoviglie", "Lavastoviglie"),
        "washing_machine": ("lavatrici", "Lavatrici"),
        "dryer": ("asciugatrici", "Asciugatrici"),
        "fridge": ("frigoriferi", "Frigoriferi"),
        "oven": ("forni", "Forni"),
        "hob": ("piani-cottura", "Piani cottura"),
        "hood": ("cappe", "Cappe"),
        "microwave": ("microonde", "Microonde"),
        "vacuum": ("aspirapolvere", "Aspirapolvere"),
        "robot_vacuum": ("robot-aspirapolvere", "Robot aspirapolvere"),
        "coffee": ("macchine-caffe", "Macchine da caffè"),
        "capsule": ("macchine-capsule", "Macchine a capsule"),
        "kettle": ("bollitori", "Bollitori"),
        "air_fryer": ("friggitrici-ad-aria", "Friggitrici ad aria"),
    },
    "GB": {
        "dishwasher": ("dishwashers", "Dishwashers"),
        "washing_machine": ("washing-machines", "Washing machines"),
        "dryer": ("tumble-dryers", "Tumble dryers"),
        "fridge": ("fridge-freezers", "Fridge freezers"),
        "oven": ("ovens", "Ovens"),
        "hob": ("hobs", "Hobs"),
        "hood": ("cooker-hoods", "Cooker hoods"),
        "microwave": ("microwaves", "Microwaves"),
        "vacuum": ("vacuum-cleaners", "Vacuum cleaners"),
        "robot_vacuum": ("robot-vacuums", "Robot vacuums"),
        "coffee": ("coffee-machines", "Coffee machines"),
        "capsule": ("capsule-machines", "Capsule machines"),
        "kettle": ("kettles", "Kettles"),
        "air_fryer": ("air-fryers", "Air fryers"),
    },
}
_BRAND_SUFFIX = {"IT": " | Elettra Casa", "GB": " | Elettra Home"}
_FIXED = {
    "IT": {
        "home": ("/", "Elettrodomestici per la casa"),
        "search": ("/cerca", "Risultati di ricerca"),
        "cart": ("/carrello", "Carrello"),
        "checkout": ("/checkout", "Checkout"),
        "confirmation": ("/checkout/conferma", "Ordine confermato"),
        "login": ("/account/accesso", "Accedi"),
        "account": ("/account", "Il mio account"),
        "orders": ("/account/ordini", "I miei ordini"),
        "tracking": ("/account/ordini/tracking", "Traccia la spedizione"),
        "address": ("/account/indirizzi", "I miei indirizzi"),
        "returns": ("/assistenza/resi", "Resi e rimborsi"),
        "faq_delivery": ("/assistenza/faq/consegne", "FAQ consegne"),
        "faq_repair": ("/assistenza/faq/guasti", "FAQ guasti e riparazioni"),
        "faq_warranty": ("/assistenza/faq/garanzia", "FAQ garanzia"),
        "support": ("/assistenza", "Assistenza clienti"),
        "contact": ("/assistenza/contatti", "Contattaci"),
        "support_form": ("/assistenza/richiesta", "Modulo di assistenza"),
        "repair_form": ("/assistenza/riparazione", "Richiesta di riparazione"),
        "return_form": ("/assistenza/resi/richiesta", "Richiesta di reso"),
        "subscriptions": ("/servizi/abbonamenti", "Garanzie e abbonamenti"),
        "newsletter": ("/newsletter/offerte", "Offerte della settimana"),
        "stores": ("/negozi", "Trova un negozio"),
    },
    "GB": {
        "home": ("/", "Home appliances"),
        "search": ("/search", "Search results"),
        "cart": ("/basket", "Basket"),
        "checkout": ("/checkout", "Checkout"),
        "confirmation": ("/checkout/confirmation", "Order confirmed"),
        "login": ("/account/sign-in", "Sign in"),
        "account": ("/account", "My account"),
        "orders": ("/account/orders", "My orders"),
        "tracking": ("/account/orders/tracking", "Track my delivery"),
        "address": ("/account/addresses", "My addresses"),
        "returns": ("/help/returns", "Returns and refunds"),
        "faq_delivery": ("/help/faq/delivery", "Delivery FAQ"),
        "faq_repair": ("/help/faq/repairs", "Faults and repairs FAQ"),
        "faq_warranty": ("/help/faq/warranty", "Warranty FAQ"),
        "support": ("/help", "Customer care"),
        "contact": ("/help/contact-us", "Contact us"),
        "support_form": ("/help/request", "Support request"),
        "repair_form": ("/help/repair-request", "Repair request"),
        "return_form": ("/help/returns/request", "Return request"),
        "subscriptions": ("/services/plans", "Warranties and plans"),
        "newsletter": ("/newsletter/deals", "This week's deals"),
        "stores": ("/stores", "Find a store"),
    },
}


def _pages(country: str) -> tuple[dict[str, Page], dict[str, Page], dict[str, Page]]:
    base = _site(country)
    fixed = {k: Page(base + u, t + _BRAND_SUFFIX[country]) for k, (u, t) in _FIXED[country].items()}
    cats = {
        c: Page(f"{base}/{slug}", t + _BRAND_SUFFIX[country]) for c, (slug, t) in _CAT_SLUG[country].items()
    }
    prods = {
        p.sku: Page(
            f"{base}/{_CAT_SLUG[country][p.category][0]}/{p.model.lower()}",
            (p.name_it if country == "IT" else p.name_en) + _BRAND_SUFFIX[country],
        )
        for p in APPLIANCES + tuple(x for x in PRODUCTS if x.category == "kettle")
    }
    for p in ACCESSORIES + SUBSCRIPTIONS:
        prods[p.sku] = Page(
            f"{base}/p/{p.sku.lower()}",
            (p.name_it if country == "IT" else p.name_en) + _BRAND_SUFFIX[country],
        )
    return fixed, cats, prods


PAGES: dict[str, dict[str, Page]] = {}
CATEGORY_PAGES: dict[str, dict[str, Page]] = {}
PRODUCT_PAGES: dict[str, dict[str, Page]] = {}
for _c in ("IT", "GB"):
    PAGES[_c], CATEGORY_PAGES[_c], PRODUCT_PAGES[_c] = _pages(_c)
CATEGORY_LIST = tuple(_CAT_SLUG["IT"])

SEARCHES = {
    "IT": (
        "lavastoviglie 60 cm",
        "lavatrice 9 kg",
        "frigorifero combinato no frost",
        "macchina caffè",
        "aspirapolvere senza filo",
        "forno pirolitico",
        "piano induzione 4 zone",
        "friggitrice ad aria",
        "filtro acqua frigo",
        "ricambi aspirapolvere",
        "robot aspirapolvere",
        "asciugatrice pompa di calore",
        "cappa 90 cm",
        "bollitore",
        "offerte",
        "garanzia estesa",
    ),
    "GB": (
        "dishwasher 60cm",
        "washing machine 9kg",
        "frost free fridge freezer",
        "coffee machine",
        "cordless vacuum",
        "pyrolytic oven",
        "induction hob",
        "air fryer",
        "fridge water filter",
        "vacuum spare parts",
        "robot vacuum",
        "heat pump dryer",
        "cooker hood 90cm",
        "kettle",
        "deals",
        "extended warranty",
    ),
}
REFERRERS = (
    "",
    "",
    "",
    "https://www.google.com/",
    "https://www.google.com/",
    "https://www.google.it/",
    "https://www.bing.com/",
    "https://www.facebook.com/",
    "https://www.instagram.com/",
    "https://www.trovaprezzi.it/",
    "https://www.idealo.co.uk/",
)
NEWSLETTER_REFERRER = "newsletter"
FORMS = {
    "IT": {
        "support": "richiesta_assistenza",
        "repair": "richiesta_riparazione",
        "return": "richiesta_reso",
        "address": "cambio_indirizzo",
        "subscription": "attivazione_abbonamento",
        "newsletter": "iscrizione_newsletter",
    },
    "GB": {
        "support": "support_request",
        "repair": "repair_request",
        "return": "return_request",
        "address": "change_address",
        "subscription": "plan_signup",
        "newsletter": "newsletter_signup",
    },
}
FORM_ERRORS = {
    "IT": (
        "Il CAP inserito non è valido",
        "Numero d'ordine non trovato",
        "Errore di sistema: riprova più tardi",
        "Sessione scaduta: accedi di nuovo",
        "Il campo telefono è obbligatorio",
        "Impossibile caricare l'allegato",
    ),
    "GB": (
        "The postcode is not valid",
        "Order number not found",
        "System error: please try again later",
        "Your session has expired: please sign in again",
        "Phone number is required",
        "The attachment could not be uploaded",
    ),
}
LOGIN_ERRORS = {
    "IT": ("Password errata", "Account bloccato per troppi tentativi"),
    "GB": ("Incorrect password", "Account locked after too many attempts"),
}
