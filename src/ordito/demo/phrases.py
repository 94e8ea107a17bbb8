"""Text templates of the demo company, in Italian and English, with ``{slot}`` placeholders.

Written for ordito. Texts are assembled from several pieces (greeting, core, tone, closing), so a few
dozen templates per kind give thousands of distinct messages. Slots: name, full, agent, order, product,
the_product, my_product, model, problem, address, date, amount, days, ticket, plan, dept, brand,
carrier, friction.
"""

from __future__ import annotations

T = dict[str, tuple[str, ...]]

GREETING: T = {
    "it": ("Buongiorno,", "Salve,", "Buonasera,", "Ciao,", "Gentile assistenza,", "Buongiorno a voi,", ""),
    "en": ("Hi,", "Hello,", "Good morning,", "Dear customer care,", "Hi there,", "Good afternoon,", ""),
}

# What the customer needs, by intent (first statement of the need).
CORE: dict[str, T] = {
    "delivery_problem": {
        "it": (
            "ho ordinato {the_product} (ordine {order}) il {date} e non è ancora arrivato nulla.",
            "il mio ordine {order} doveva arrivare {days} giorni fa ma il tracking è fermo.",
            "il corriere dice che la consegna dell'ordine {order} non è andata a buon fine ma io ero a casa.",
            "l'ordine {order} risulta consegnato ma non ho ricevuto niente.",
            "vorrei sapere quando arriva {my_product}, ordine {order}.",
            "la consegna dell'ordine {order} è stata rimandata un'altra volta.",
            "aspetto ancora {the_product} dell'ordine {order}: nessuno mi ha avvisato del ritardo.",
        ),
        "en": (
            "I ordered {the_product} (order {order}) on {date} and nothing has arrived yet.",
            "my order {order} was due {days} days ago but the tracking hasn't moved.",
            "the courier says delivery of order {order} failed but I was at home all day.",
            "order {order} shows as delivered but I never received it.",
            "when will {my_product} arrive? Order {order}.",
            "the delivery of order {order} has been rescheduled again.",
            "I'm still waiting for {the_product} from order {order} and nobody told me about a delay.",
        ),
    },
    "repair": {
        "it": (
            "{my_product} {problem}.",
            "da qualche giorno {my_product} {problem}.",
            "ho un problema: {the_product} {problem}.",
            "{the_product} (modello {model}) {problem}, è ancora in garanzia.",
            "vorrei far riparare {my_product}: {problem}.",
            "{the_product} che ho comprato da voi {problem} e non so più cosa fare.",
        ),
        "en": (
            "{my_product} {problem}.",
            "for a few days now {my_product} {problem}.",
            "I have a problem: {the_product} {problem}.",
            "{the_product} (model {model}) {problem} and it's still under warranty.",
            "I'd like {my_product} repaired: it {problem}.",
            "{the_product} I bought from you {problem} and I don't know what else to try.",
        ),
    },
    "refund": {
        "it": (
            "vorrei restituire {the_product} dell'ordine {order} e avere il rimborso.",
            "ho fatto il reso dell'ordine {order} il {date} ma il rimborso di {amount} non è ancora arrivato.",
            "ho ricevuto {the_product} con un danno evidente: chiedo reso e rimborso dell'ordine {order}.",
            "mi avete addebitato {amount} per l'ordine {order} che ho annullato.",
            "come faccio a restituire l'ordine {order}? Il prodotto non è quello che avevo ordinato.",
        ),
        "en": (
            "I'd like to return {the_product} from order {order} and get a refund.",
            "I sent back order {order} on {date} but the refund of {amount} hasn't arrived.",
            "{the_product} arrived damaged: please arrange a return and refund for order {order}.",
            "you charged me {amount} for order {order}, which I cancelled.",
            "how do I return order {order}? It isn't the product I ordered.",
        ),
    },
    "address_change": {
        "it": (
            "devo cambiare l'indirizzo di consegna: il nuovo è {address}.",
            "mi sono trasferito, il nuovo indirizzo è {address}.",
            "il sito non mi fa modificare l'indirizzo. Il nuovo è {address}.",
            "potete aggiornare il mio indirizzo in {address}?",
        ),
        "en": (
            "I need to change my delivery address to {address}.",
            "I've moved house, my new address is {address}.",
            "the website won't let me change my address. The new one is {address}.",
            "could you update my address to {address}?",
        ),
    },
    "subscription": {
        "it": (
            "riguardo all'abbonamento {plan}: {problem}.",
            "ho attivato {plan} e {problem}.",
            "vi scrivo per {plan}: {problem}.",
        ),
        "en": (
            "about my {plan}: {problem}.",
            "I signed up for the {plan} and {problem}.",
            "I'm writing about the {plan}: {problem}.",
        ),
    },
    "info": {
        "it": (
            "{the_product} va bene per una famiglia di quattro persone?",
            "che differenza c'è tra {model} e il modello della serie superiore?",
            "{the_product} è disponibile in negozio a {city}?",
            "quanto costa la consegna al piano con installazione per {the_product}?",
            "{the_product} consuma molto? Qual è la classe energetica?",
            "fate il ritiro dell'usato se compro {the_product}?",
        ),
        "en": (
            "is {the_product} big enough for a family of four?",
            "what's the difference between {model} and the higher series?",
            "is {the_product} available in the {city} store?",
            "how much is delivery with installation for {the_product}?",
            "how much energy does {the_product} use? What's the energy rating?",
            "do you take away the old appliance if I buy {the_product}?",
        ),
    },
    "purchase": {
        "it": ("vorrei acquistare {the_product} ma il pagamento non va a buon fine.",),
        "en": ("I'm trying to buy {the_product} but the payment keeps failing.",),
    },
}

SUBSCRIPTION_PROBLEMS = {
    "it": (
        "mi avete addebitato due volte il canone",
        "vorrei disdirlo",
        "non ho ricevuto la fattura",
        "i filtri non sono mai arrivati",
    ),
    "en": (
        "you charged me twice",
        "I'd like to cancel it",
        "I never received the invoice",
        "the filters never arrived",
    ),
}

TONE_ADD: dict[int, T] = {
    0: {
        "it": ("Grazie in anticipo!", "Buona giornata!", "Grazie mille.", ""),
        "en": ("Thanks in advance!", "Have a nice day!", "Many thanks.", ""),
    },
    1: {
        "it": ("Grazie.", "Attendo un vostro riscontro.", "Cordiali saluti.", ""),
        "en": ("Thanks.", "I look forward to your reply.", "Regards.", ""),
    },
    2: {
        "it": (
            "Non è la prima volta che vi contatto.",
            "Sono piuttosto deluso.",
            "Vorrei una risposta in tempi brevi.",
            "Non è accettabile.",
            "Ho già perso troppo tempo.",
        ),
        "en": (
            "This isn't the first time I've contacted you.",
            "I'm quite disappointed.",
            "I'd like an answer soon.",
            "This is not acceptable.",
            "I've already wasted too much time.",
        ),
    },
    3: {
        "it": (
            "È la terza volta che vi contatto e nessuno risolve niente!",
            "Servizio clienti pessimo.",
            "Se non risolvete entro domani non compro mai più da voi.",
            "Vergognoso!",
            "Sono esasperato.",
            "Farò una recensione negativa ovunque.",
        ),
        "en": (
            "This is the third time I've contacted you and nobody fixes anything!",
            "Terrible customer service.",
            "If this isn't sorted by tomorrow I'll never buy from you again.",
            "Disgraceful!",
            "I'm at the end of my tether.",
            "I'll be leaving bad reviews everywhere.",
        ),
    },
}

# The customer gives again something already given earlier in the episode.
RESTATE: dict[str, T] = {
    "order_number": {
        "it": (
            "Come ho già detto, il numero d'ordine è {order}.",
            "Ve l'ho già scritto: ordine {order}.",
            "Ripeto ancora una volta il numero d'ordine: {order}.",
            "L'ordine è sempre {order}.",
        ),
        "en": (
            "As I already said, the order number is {order}.",
            "I've already given it: order {order}.",
            "Once again, the order number is {order}.",
            "It's still order {order}.",
        ),
    },
    "address": {
        "it": ("L'indirizzo, come già comunicato, è {address}.", "Ripeto il nuovo indirizzo: {address}."),
        "en": ("The address, as I already told you, is {address}.", "Again, the new address is {address}."),
    },
    "problem": {
        "it": ("Come ho già spiegato, {the_product} {problem}.", "Lo ripeto: {problem}."),
        "en": ("As I explained already, {the_product} {problem}.", "To repeat: it {problem}."),
    },
    "product": {
        "it": (
            "Il modello è {model}, l'ho già detto al suo collega.",
            "Si tratta sempre del modello {model}.",
        ),
        "en": ("The model is {model}, I already told your colleague.", "It's still the {model}."),
    },
}

FOLLOWUP: T = {
    "it": (
        "Ci sono novità?",
        "Vi ho scritto qualche giorno fa e non ho ancora avuto risposta.",
        "Sto ancora aspettando.",
        "Nessuno mi ha più richiamato.",
        "Vi ricontatto per la stessa questione.",
    ),
    "en": (
        "Any news?",
        "I wrote a few days ago and haven't had a reply.",
        "I'm still waiting.",
        "Nobody called me back.",
        "I'm contacting you again about the same issue.",
    ),
}
THANKS: dict[int, T] = {
    0: {
        "it": ("Perfetto, grazie mille!", "Gentilissimi, grazie.", "Ottimo, grazie per l'aiuto."),
        "en": ("Perfect, thanks a lot!", "That's great, thank you.", "Brilliant, thanks for your help."),
    },
    1: {"it": ("Va bene, grazie.", "Ok.", "D'accordo."), "en": ("OK, thanks.", "Fine.", "Alright.")},
    2: {
        "it": ("Speriamo sia la volta buona.", "Vedremo.", "Ok, ma spero davvero che arrivi."),
        "en": ("Let's hope so this time.", "We'll see.", "OK, but I really hope it happens this time."),
    },
    3: {
        "it": ("Non ci credo più.", "Lasciamo perdere.", "Assurdo."),
        "en": ("I don't believe you any more.", "Forget it.", "Ridiculous."),
    },
}

AGENT_GREET: T = {
    "it": (
        "Buongiorno {name}, sono {agent} di {brand}. Come posso aiutarla?",
        "Salve {name}, mi chiamo {agent}. Di cosa ha bisogno?",
        "Buongiorno, sono {agent}. Mi dica pure.",
    ),
    "en": (
        "Hello {name}, I'm {agent} from {brand}. How can I help?",
        "Hi {name}, my name is {agent}. What can I do for you?",
        "Good morning, {agent} here. How can I help?",
    ),
}
AGENT_ASK: dict[str, T] = {
    "order_number": {
        "it": ("Mi può indicare il numero d'ordine?", "Mi serve il numero d'ordine, per favore."),
        "en": ("Could you give me the order number?", "Can I have your order number, please?"),
    },
    "address": {
        "it": ("Mi conferma l'indirizzo?", "Qual è il nuovo indirizzo?"),
        "en": ("Could you confirm the address?", "What is the new address?"),
    },
    "problem": {
        "it": ("Può descrivermi il problema?", "Che cosa succede esattamente?"),
        "en": ("Could you describe the problem?", "What exactly is happening?"),
    },
    "product": {"it": ("Qual è il modello del prodotto?",), "en": ("Which model is it?",)},
}
AGENT_SORRY: T = {
    "it": ("Mi dispiace per il disagio.", "Capisco, mi scuso per l'inconveniente.", "Mi spiace molto."),
    "en": (
        "I'm sorry for the trouble.",
        "I understand, apologies for the inconvenience.",
        "I'm very sorry about that.",
    ),
}
AGENT_SOLVE: dict[str, T] = {
    "delivery_problem": {
        "it": (
            "Ho sollecitato il corriere {carrier}: la consegna è prevista per il {date}.",
            "Ho riprogrammato la consegna per il {date}.",
            "Il pacco è in giacenza, lo riconsegnano il {date}.",
        ),
        "en": (
            "I've chased {carrier}: delivery is now due on {date}.",
            "I've rebooked the delivery for {date}.",
            "The parcel is at the depot and will be redelivered on {date}.",
        ),
    },
    "repair": {
        "it": (
            "Ho aperto una richiesta di intervento: un tecnico la contatterà entro 48 ore.",
            "Le ho fissato l'intervento del tecnico per il {date}.",
            "Può portarlo nel nostro negozio più vicino per la riparazione.",
        ),
        "en": (
            "I've opened a repair request: an engineer will call you within 48 hours.",
            "I've booked an engineer visit for {date}.",
            "You can bring it to your nearest store for repair.",
        ),
    },
    "refund": {
        "it": (
            "Il rimborso di {amount} è stato disposto: lo vedrà entro 5-7 giorni lavorativi.",
            "Le ho inviato l'etichetta per il reso.",
            "Ho autorizzato il reso dell'ordine {order}.",
        ),
        "en": (
            "The refund of {amount} has been issued: allow 5-7 working days.",
            "I've emailed you a returns label.",
            "I've authorised the return of order {order}.",
        ),
    },
    "address_change": {
        "it": ("Ho aggiornato l'indirizzo.", "Fatto: il nuovo indirizzo è registrato."),
        "en": ("I've updated your address.", "Done: the new address is on your account."),
    },
    "subscription": {
        "it": (
            "Ho verificato: l'importo verrà stornato.",
            "Ho registrato la sua richiesta sull'abbonamento.",
        ),
        "en": ("I've checked: the amount will be refunded.", "I've updated your plan as requested."),
    },
    "info": {
        "it": (
            "Sì, {the_product} costa {amount} e ha la classe energetica A.",
            "Sì, è disponibile e la consegna è gratuita.",
        ),
        "en": (
            "Yes, {the_product} costs {amount} and is energy rated A.",
            "Yes, it's in stock and delivery is free.",
        ),
    },
    "purchase": {
        "it": ("Ho verificato il pagamento: ora può riprovare.",),
        "en": ("I've checked the payment: please try again now.",),
    },
}
AGENT_DEFER: T = {
    "it": (
        "Giro la segnalazione al reparto {dept}, sarà ricontattato.",
        "Devo verificare con il reparto {dept}, le faremo sapere.",
        "Ho aperto la pratica {ticket}, la ricontatteremo al più presto.",
    ),
    "en": (
        "I'll pass this to the {dept} team, they'll get back to you.",
        "I need to check with {dept}, we'll let you know.",
        "I've opened case {ticket}, we'll get back to you as soon as possible.",
    ),
}
AGENT_TRANSFER: T = {
    "it": (
        "La trasferisco al reparto {dept}.",
        "Per questo deve parlare con il reparto {dept}, la passo subito.",
    ),
    "en": ("I'll transfer you to the {dept} team.", "For this you need {dept}, let me put you through."),
}
AGENT_BYE: T = {
    "it": ("C'è altro che posso fare per lei?", "Buona giornata!", "Grazie per averci contattato."),
    "en": ("Is there anything else I can help with?", "Have a good day!", "Thanks for contacting us."),
}
DEPT_NAME = {
    "it": {
        "customer_service": "servizio clienti",
        "technical_support": "assistenza tecnica",
        "logistics": "logistica",
        "billing": "amministrazione",
        "sales": "vendite",
    },
    "en": {
        "customer_service": "customer service",
        "technical_support": "technical support",
        "logistics": "logistics",
        "billing": "billing",
        "sales": "sales",
    },
}

BOT: dict[str, T] = {
    "hello": {
        "it": ("Ciao! Sono Elia, l'assistente virtuale di Elettra Casa. Come posso aiutarti?",),
        "en": ("Hi! I'm Ellie, Elettra Home's virtual assistant. How can I help?",),
    },
    "handoff": {
        "it": ("Ti metto in contatto con un operatore.",),
        "en": ("Let me connect you to an agent.",),
    },
}
SYSTEM: dict[str, T] = {
    "queue": {
        "it": ("Un operatore si unirà a breve alla conversazione.",),
        "en": ("An agent will join shortly.",),
    },
    "abandoned": {"it": ("Il visitatore ha lasciato la chat.",), "en": ("The visitor left the chat.",)},
    "closed": {"it": ("Chat chiusa.",), "en": ("Chat closed.",)},
    "transferred": {
        "it": ("Chat trasferita a un altro reparto.",),
        "en": ("Chat transferred to another team.",),
    },
}

INTENT_PHRASE = {
    "it": {
        "delivery_problem": "problema di consegna",
        "repair": "guasto",
        "refund": "reso e rimborso",
        "address_change": "cambio indirizzo",
        "subscription": "abbonamento",
        "info": "informazioni prodotto",
        "purchase": "acquisto",
    },
    "en": {
        "delivery_problem": "delivery problem",
        "repair": "appliance fault",
        "refund": "return and refund",
        "address_change": "change of address",
        "subscription": "plan",
        "info": "product question",
        "purchase": "purchase",
    },
}
NOTE_OPEN: T = {
    "it": ("Cliente chiama per {intent}.", "Chiamata per {intent}.", "Il cliente segnala {intent}."),
    "en": ("Customer called about {intent}.", "Call re {intent}.", "Customer reports {intent}."),
}
NOTE_MOOD: dict[int, T] = {
    0: {"it": ("Cliente cordiale.", ""), "en": ("Friendly customer.", "")},
    1: {"it": ("",), "en": ("",)},
    2: {
        "it": ("Cliente infastidito.", "Cliente spazientito."),
        "en": ("Customer annoyed.", "Customer impatient."),
    },
    3: {
        "it": ("Cliente molto arrabbiato, minaccia di non comprare più.", "Cliente furioso."),
        "en": ("Customer very angry, threatens to go elsewhere.", "Customer furious."),
    },
}
NOTE_RESTATED: T = {
    "it": ("Il cliente ha dovuto ripetere: {value}.", "Cliente ripete {value} (già fornito in precedenza)."),
    "en": ("Customer had to repeat: {value}.", "Customer repeats {value} (already given before)."),
}
NOTE_END: dict[str, T] = {
    "resolved": {
        "it": ("Risolto in linea.", "Problema risolto."),
        "en": ("Resolved on the call.", "Issue resolved."),
    },
    "info_given": {"it": ("Fornite informazioni.",), "en": ("Information given.",)},
    "callback_promised": {"it": ("Promesso richiamo entro 48h.",), "en": ("Callback promised within 48h.",)},
    "escalated": {"it": ("Scalato al secondo livello.",), "en": ("Escalated to second line.",)},
    "transferred": {"it": ("Trasferito a {dept}.",), "en": ("Transferred to {dept}.",)},
}

TICKET_SUBJECT: dict[str, T] = {
    "delivery_problem": {
        "it": ("Ordine {order} non consegnato", "Ritardo consegna {order}", "Consegna fallita {order}"),
        "en": ("Order {order} not delivered", "Late delivery {order}", "Failed delivery {order}"),
    },
    "repair": {
        "it": ("Guasto {model}", "Richiesta riparazione {model}", "{model}: {problem}"),
        "en": ("Fault {model}", "Repair request {model}", "{model}: {problem}"),
    },
    "refund": {
        "it": ("Richiesta rimborso ordine {order}", "Reso {order}"),
        "en": ("Refund request order {order}", "Return {order}"),
    },
    "address_change": {
        "it": ("Cambio indirizzo", "Variazione indirizzo di consegna"),
        "en": ("Change of address", "Update delivery address"),
    },
    "subscription": {
        "it": ("Abbonamento {plan}", "Domanda su {plan}"),
        "en": ("{plan}", "Question about {plan}"),
    },
    "info": {
        "it": ("Informazioni su {model}", "Domanda prodotto {model}"),
        "en": ("Question about {model}", "Product query {model}"),
    },
    "purchase": {"it": ("Problema pagamento",), "en": ("Payment problem",)},
}
TICKET_WORK_BY_INTENT: dict[str, T] = {
    "delivery_problem": {
        "it": ("Contattato il corriere, in attesa di riscontro.", "Aperta giacenza con il corriere."),
        "en": ("Contacted the courier, awaiting reply.", "Opened a trace with the courier."),
    },
    "repair": {
        "it": ("Richiesto il ricambio al magazzino.", "In attesa della disponibilità del tecnico."),
        "en": ("Ordered the spare part.", "Waiting for an engineer slot."),
    },
    "refund": {"it": ("Richiesta autorizzazione al rimborso.",), "en": ("Asked for refund approval.",)},
}
ORIGIN_NAME = {
    "it": {
        "phone": "telefono",
        "email": "email",
        "chat": "chat",
        "social": "social",
        "web": "web",
        "store": "negozio",
    },
    "en": {
        "phone": "phone",
        "email": "email",
        "chat": "chat",
        "social": "social",
        "web": "web",
        "store": "store",
    },
}
TICKET_WORK: T = {
    "it": (
        "Richiesta inoltrata al reparto competente.",
        "In attesa di risposta del cliente.",
        "Verificato lo storico ordini.",
        "Sollecitato il fornitore.",
        "Chiamato il cliente, non risponde.",
    ),
    "en": (
        "Passed to the right team.",
        "Waiting for the customer.",
        "Checked the order history.",
        "Chased the supplier.",
        "Called the customer, no answer.",
    ),
}
TICKET_SOLVED: T = {
    "it": ("Pratica risolta.", "Problema risolto, chiudo la pratica.", "Intervento completato."),
    "en": ("Case resolved.", "Issue resolved, closing the case.", "Work completed."),
}
TICKET_REOPENED: T = {
    "it": ("Il cliente ricontatta: problema non risolto.",),
    "en": ("Customer back in touch: not resolved.",),
}
TICKET_CLOSED: T = {
    "it": ("Chiusura automatica dopo 7 giorni.",),
    "en": ("Closed automatically after 7 days.",),
}
TICKET_FROM: T = {
    "it": ("Richiesta dal modulo web: {text}", "Da {channel}: {text}", "{text}"),
    "en": ("Web form request: {text}", "From {channel}: {text}", "{text}"),
}

EMAIL_SIGN: T = {
    "it": ("Cordiali saluti,\n{full}", "Saluti,\n{full}", "Grazie,\n{name}", "{full}"),
    "en": ("Kind regards,\n{full}", "Thanks,\n{name}", "Best wishes,\n{full}", "{full}"),
}
EMAIL_AGENT_SIGN: T = {
    "it": ("Cordiali saluti,\n{agent} - Servizio Clienti Elettra Casa",),
    "en": ("Kind regards,\n{agent} - Elettra Home Customer Care",),
}
EMAIL_AGENT_OPEN: T = {
    "it": ("Gentile {name},", "Buongiorno {name},"),
    "en": ("Dear {name},", "Hello {name},"),
}

SURVEY_COMMENT: dict[int, T] = {
    0: {
        "it": (
            "Operatore gentilissimo e problema risolto subito.",
            "Tutto perfetto, grazie!",
            "Servizio rapido e cortese.",
            "Consegna puntuale, prodotto ottimo.",
        ),
        "en": (
            "Lovely agent and sorted straight away.",
            "All perfect, thank you!",
            "Quick and polite service.",
            "On-time delivery, great product.",
        ),
    },
    1: {
        "it": ("Tutto sommato ok.", "Nella media.", "Risolto, anche se ci è voluto un po'."),
        "en": ("OK overall.", "Average.", "Sorted, though it took a while."),
    },
    2: {
        "it": (
            "Ci è voluto troppo tempo.",
            "Non sono soddisfatto di come è stata gestita la cosa.",
            "Poca chiarezza.",
        ),
        "en": ("It took far too long.", "Not happy with how it was handled.", "Not very clear."),
    },
    3: {
        "it": (
            "Pessima esperienza, nessuno sa niente.",
            "Mai più.",
            "Vergognoso, il problema non è ancora risolto.",
        ),
        "en": (
            "Awful experience, nobody knows anything.",
            "Never again.",
            "Disgraceful, still not resolved.",
        ),
    },
}
# What went wrong, in the customer's words (appended to negative comments and posts).
FRICTION_WORDS: dict[str, T] = {
    "repeat_contact": {
        "it": ("ho dovuto ricontattarvi più volte",),
        "en": ("I had to contact you several times",),
    },
    "transfer": {
        "it": ("mi hanno passato da un operatore all'altro",),
        "en": ("I was passed from one agent to another",),
    },
    "department_bounce": {
        "it": ("sballottato da un reparto all'altro",),
        "en": ("bounced between departments",),
    },
    "long_wait": {
        "it": ("attesa infinita", "mezz'ora in attesa al telefono"),
        "en": ("endless wait", "half an hour on hold"),
    },
    "info_asked_twice": {
        "it": ("ho dovuto ripetere tutto ogni volta",),
        "en": ("I had to repeat everything every time",),
    },
    "digital_dead_end": {"it": ("dal sito non si riesce a fare niente",), "en": ("the website is useless",)},
    "channel_hop": {
        "it": ("dal sito non ho risolto e ho dovuto contattarvi",),
        "en": ("the website didn't help so I had to contact you",),
    },
    "abandonment": {"it": ("nessuno risponde",), "en": ("nobody answers",)},
    "unresolved": {"it": ("ancora nessuna soluzione",), "en": ("still no solution",)},
}

SOCIAL_POST: dict[int, T] = {
    0: {
        "it": (
            "{handle} consegna velocissima e {product} funziona benissimo!",
            "Grazie {handle}, assistenza top.",
        ),
        "en": (
            "{handle} super quick delivery and the {model} works brilliantly!",
            "Thanks {handle}, great service.",
        ),
    },
    1: {
        "it": ("{handle} {core}", "{handle} domanda: {core}"),
        "en": ("{handle} {core}", "{handle} quick question: {core}"),
    },
    2: {
        "it": ("{handle} {core} {friction}.", "{handle} ancora nessuna risposta. {core}"),
        "en": ("{handle} {core} {friction}.", "{handle} still no answer. {core}"),
    },
    3: {
        "it": (
            "{handle} VERGOGNA. {core} {friction}!",
            "{handle} servizio clienti inesistente, {friction}. Mai più!",
        ),
        "en": (
            "{handle} SHAMEFUL. {core} {friction}!",
            "{handle} non-existent customer service, {friction}. Never again!",
        ),
    },
}
BRAND_REPLY: T = {
    "it": (
        "Ciao {name}, ci dispiace molto. Ci scrivi in privato il numero d'ordine? Ti aiutiamo subito.",
        "Ciao {name}, grazie della segnalazione: ti abbiamo scritto in DM.",
        "Grazie {name}, che bello leggerlo!",
    ),
    "en": (
        "Hi {name}, we're sorry to hear this. Could you DM us your order number? We'll help straight away.",
        "Hi {name}, thanks for flagging: we've sent you a DM.",
        "Thanks {name}, lovely to hear!",
    ),
}
REVIEW: dict[int, T] = {
    5: {
        "it": (
            "Prodotto eccellente, consegna puntuale. Consigliato!",
            "{product}: silenziosa ed efficiente. Cinque stelle.",
        ),
        "en": (
            "Excellent product, on-time delivery. Recommended!",
            "{product}: quiet and efficient. Five stars.",
        ),
    },
    4: {
        "it": ("Buon prodotto, consegna un po' lenta.", "Soddisfatto nel complesso."),
        "en": ("Good product, delivery a bit slow.", "Happy overall."),
    },
    3: {
        "it": ("Prodotto ok ma l'assistenza va migliorata.",),
        "en": ("Product fine but customer service needs work.",),
    },
    2: {
        "it": ("Esperienza deludente: {friction}.", "Il prodotto va, ma {friction}."),
        "en": ("Disappointing experience: {friction}.", "The product works but {friction}."),
    },
    1: {
        "it": ("Da evitare. {friction}, e ancora aspetto.", "Pessimi. {friction}."),
        "en": ("Avoid. {friction}, and I'm still waiting.", "Dreadful. {friction}."),
    },
}

POS_NOTE: dict[str, T] = {
    "dropoff": {
        "it": (
            "Ritirato apparecchio {product} per riparazione in garanzia, difetto: {problem}. Pronto in circa 10 giorni.",
            "Cliente riferisce che {problem}. Apparecchio consegnato al laboratorio, più accessori.",
            "Accettazione in assistenza: {problem}. Verificata la garanzia, già attiva.",
        ),
        "en": (
            "Took in {product} for warranty repair, fault: {problem}. Ready in about 10 days.",
            "Customer says it {problem}. Unit sent to the workshop with accessories.",
            "Booked in for repair: {problem}. Warranty checked, still valid.",
        ),
    },
    "pickup": {
        "it": (
            "Riconsegnato apparecchio riparato, cliente soddisfatto.",
            "Sostituita la scheda elettronica, nessun addebito.",
            "Ritiro dopo riparazione: sostituita la guarnizione, è tutto a posto.",
        ),
        "en": (
            "Returned repaired unit, customer happy.",
            "Replaced the control board, no charge.",
            "Collected after repair: seal replaced, all fine. £0.00 due.",
        ),
    },
    "return": {
        "it": ("Reso accettato: imballo originale integro.", "Reso per difetto, rimborso su carta."),
        "en": ("Return accepted: original packaging intact.", "Faulty return, refunded to card."),
    },
    "visit": {
        "it": (
            "Cliente interessato a {product}, consegnato preventivo.",
            "Consulenza su {product}, tornerà.",
        ),
        "en": ("Customer interested in {product}, quote given.", "Advice on {product}, will come back."),
    },
}
