"""People and places of the demo company: first and last names, cities, streets, mail providers.

Written for ordito: common Italian and British names and real city names (facts), arranged by hand.
Weights make the first entries of each list more frequent, as real name frequencies are skewed.
"""

from __future__ import annotations

from dataclasses import dataclass


def _words(text: str) -> tuple[str, ...]:
    return tuple(w.replace("_", " ") for w in text.split())


IT_MALE = _words(
    """Marco Luca Giuseppe Francesco Alessandro Andrea Giovanni Matteo Lorenzo Davide Stefano Roberto
    Paolo Antonio Fabio Simone Riccardo Federico Daniele Emanuele Alberto Claudio Massimo Gabriele Nicola
    Salvatore Vincenzo Pietro Michele Tommaso Enrico Giorgio Filippo Leonardo Mattia Samuele Diego
    Gianluca Maurizio Franco Sergio Carlo Domenico Bruno Mauro Angelo Raffaele Cristian Fabrizio Luigi
    Nicolò Edoardo Jacopo Cesare Ettore Gianni Renato Valerio Ivan Dario Ruggero Elia Christian Umberto"""
)
IT_FEMALE = _words(
    """Giulia Francesca Chiara Sara Martina Valentina Alessandra Elena Laura Silvia Federica Paola Anna
    Maria Elisa Roberta Giorgia Alice Sofia Aurora Beatrice Claudia Cristina Daniela Monica Barbara
    Simona Serena Ilaria Veronica Marta Camilla Arianna Noemi Gaia Rebecca Emma Greta Irene Lucia Teresa
    Rita Angela Patrizia Manuela Antonella Stefania Debora Eleonora Caterina Benedetta Ludovica Margherita
    Viola Agnese Rosa Carla Luisa Nicoletta Michela"""
)
IT_LAST = _words(
    """Rossi Russo Ferrari Esposito Bianchi Romano Colombo Ricci Marino Greco Bruno Gallo Conti De_Luca
    Mancini Costa Giordano Rizzo Lombardi Moretti Barbieri Fontana Santoro Mariani Rinaldi Caruso
    Ferrara Galli Martini Leone Longo Gentile Martinelli Vitale Lombardo Serra Coppola De_Santis
    D'Angelo Marchetti Parisi Villa Conte Ferraro Ferri Fabbri Bianco Marini Grasso Valentini Messina
    Sala De_Angelis Gatti Pellegrini Palumbo Sanna Farina Rizzi Monti Cattaneo Morelli Amato Silvestri
    Mazza Testa Grassi Pellegrino Carbone Giuliani Benedetti Barone Rossetti Caputo Montanari Guerra
    Palmieri Bernardi Martino Fiore De_Rosa Ferretti Bellini Basile Riva Donati Piras Vitali Battaglia
    Sartori Neri Costantini Milani Pagano Ruggiero Sorrentino D'Amico Orlando Negri Fumagalli
    Dell'Acqua Brambilla Zanetti Bassi Cirillo Fabbiani Lucchetti Cocco Pace Marras Nicolosi Bonetti"""
)
UK_MALE = _words(
    """James Oliver Harry George Jack Thomas William Charlie Daniel Samuel Joseph Benjamin Matthew David
    Michael Christopher Andrew Richard Paul Mark Peter Robert John Stephen Simon Adam Luke Ryan Liam
    Connor Callum Jamie Alexander Edward Henry Lewis Ethan Noah Leo Alfie Archie Freddie Oscar Theo
    Arthur Ben Tom Joe Sam Nathan Gareth Rhys Owen Kieran Dominic Toby Hugo Stuart Graham Neil"""
)
UK_FEMALE = _words(
    """Olivia Amelia Isla Ava Emily Sophie Grace Lily Jessica Chloe Ella Mia Charlotte Lucy Hannah Sarah
    Emma Laura Rebecca Rachel Claire Helen Katie Amy Holly Megan Lauren Ellie Poppy Freya Evie Isabella
    Ruby Alice Florence Harriet Victoria Eleanor Abigail Natalie Zoe Jade Gemma Kirsty Nicola Joanne
    Karen Susan Julie Alison Siobhan Bethan Fiona Imogen Phoebe Niamh Leah Aisha Priya Maisie"""
)
UK_LAST = _words(
    """Smith Jones Williams Taylor Brown Davies Evans Wilson Thomas Johnson Roberts Robinson Thompson
    Wright Walker White Edwards Hughes Green Hall Lewis Harris Clarke Patel Jackson Wood Turner Martin
    Cooper Hill Ward Morris Moore Clark Lee King Baker Harrison Morgan Allen James Scott Phillips Watson
    Davis Parker Price Bennett Young Griffiths Mitchell Kelly Cook Carter Richardson Bailey Collins Bell
    Shaw Murphy Miller Cox Richards Khan Marshall Anderson Simpson Ellis Adams Singh Begum Wilkinson
    Foster Chapman Powell Webb Rogers Gray Mason Ali Hunt Hussain Campbell Matthews Owen Palmer Holmes
    Mills Barnes Knight Lloyd Butler Russell Barker Fisher Stevens Jenkins Murray Dixon Harvey O'Brien
    McDonald O'Connor Fletcher Sutton Pearson Doyle Hart Reid Kaur Chambers"""
)


@dataclass(frozen=True, slots=True)
class City:
    name: str
    country: str  # IT | GB
    province: str  # IT province code or UK postcode area
    postcode: str  # IT: 3-digit prefix of the CAP; GB: outward code districts, space separated
    area: str  # landline national significant prefix (no trunk 0 for GB)
    first_digits: str  # allowed first digits of the subscriber part
    sub_len: int  # subscriber digits after the area code
    weight: int


IT_CITIES = (
    City("Milano", "IT", "MI", "201", "02", "3456789", 8, 30),
    City("Roma", "IT", "RM", "001", "06", "3456789", 8, 28),
    City("Torino", "IT", "TO", "101", "011", "2345679", 7, 12),
    City("Napoli", "IT", "NA", "801", "081", "2345678", 7, 12),
    City("Bologna", "IT", "BO", "401", "051", "2345679", 7, 8),
    City("Firenze", "IT", "FI", "501", "055", "2345679", 7, 8),
    City("Genova", "IT", "GE", "161", "010", "2345678", 7, 7),
    City("Palermo", "IT", "PA", "901", "091", "2345678", 7, 7),
    City("Bari", "IT", "BA", "701", "080", "2345678", 7, 6),
    City("Verona", "IT", "VR", "371", "045", "2345678", 7, 5),
    City("Padova", "IT", "PD", "351", "049", "2345678", 7, 5),
    City("Brescia", "IT", "BS", "251", "030", "2345678", 7, 5),
    City("Bergamo", "IT", "BG", "241", "035", "2345678", 7, 4),
    City("Catania", "IT", "CT", "951", "095", "2345678", 7, 5),
    City("Venezia", "IT", "VE", "301", "041", "2345678", 7, 4),
    City("Trieste", "IT", "TS", "341", "040", "2345678", 7, 3),
    City("Cagliari", "IT", "CA", "091", "070", "2345678", 7, 3),
    City("Perugia", "IT", "PG", "061", "075", "2345678", 7, 3),
    City("Pescara", "IT", "PE", "651", "085", "2345678", 7, 2),
    City("Ancona", "IT", "AN", "601", "071", "2345678", 7, 2),
    City("Monza", "IT", "MB", "209", "039", "2345678", 7, 3),
    City("Forlì", "IT", "FC", "471", "0543", "2345678", 6, 2),
    City("Cantù", "IT", "CO", "228", "031", "2345678", 7, 1),
)
UK_CITIES = (
    City(
        "London",
        "GB",
        "L",
        "E1 E2 E8 N1 N7 N16 NW1 NW3 NW6 SE1 SE5 SE15 SW2 SW4 SW11 SW19 W2 W4 W12",
        "20",
        "378",
        8,
        34,
    ),
    City("Manchester", "GB", "M", "M1 M4 M14 M16 M20 M21 M32", "161", "2345678", 7, 10),
    City("Birmingham", "GB", "B", "B1 B5 B13 B15 B17 B29 B30", "121", "234567", 7, 10),
    City("Leeds", "GB", "LS", "LS1 LS6 LS8 LS11 LS17", "113", "2345", 7, 7),
    City("Glasgow", "GB", "G", "G1 G3 G11 G12 G41 G42", "141", "2345678", 7, 7),
    City("Liverpool", "GB", "L", "L1 L8 L15 L17 L18", "151", "2345678", 7, 6),
    City("Bristol", "GB", "BS", "BS1 BS3 BS6 BS7 BS8", "117", "2349", 7, 6),
    City("Sheffield", "GB", "S", "S1 S7 S10 S11", "114", "2345", 7, 5),
    City("Edinburgh", "GB", "EH", "EH1 EH3 EH6 EH10 EH12", "131", "2345678", 7, 5),
    City("Leicester", "GB", "LE", "LE1 LE2 LE3", "116", "234", 7, 3),
    City("Newcastle upon Tyne", "GB", "NE", "NE1 NE2 NE4 NE6", "191", "2345678", 7, 4),
    City("Cardiff", "GB", "CF", "CF10 CF11 CF14 CF24", "29", "2", 8, 4),
    City("Southampton", "GB", "SO", "SO14 SO15 SO17", "23", "8", 8, 3),
    City("Reading", "GB", "RG", "RG1 RG2 RG4 RG30", "118", "2349", 7, 3),
    City("Coventry", "GB", "CV", "CV1 CV2 CV3 CV5", "24", "7", 8, 3),
    City("Nottingham", "GB", "NG", "NG1 NG5 NG7 NG9", "115", "26789", 7, 3),
)

IT_STREETS = _words(
    """Via_Roma Via_Giuseppe_Garibaldi Via_Giuseppe_Mazzini Corso_Vittorio_Emanuele_II Via_Cavour
    Via_Dante_Alighieri Viale_della_Repubblica Via_XX_Settembre Piazza_della_Libertà Via_Guglielmo_Marconi
    Via_Giuseppe_Verdi Via_Alessandro_Manzoni Via_Giacomo_Leopardi Via_Giacomo_Matteotti Corso_Italia
    Via_dei_Mille Via_San_Francesco Via_Nazionale Via_Tiziano Via_Giosuè_Carducci Via_Giovanni_Pascoli
    Via_Antonio_Gramsci Viale_Europa Via_Piave Via_Trieste Via_Milano Via_Torino Via_Solferino
    Via_Amerigo_Vespucci Via_Cristoforo_Colombo Via_della_Pace Via_Santa_Lucia Via_Monte_Grappa
    Via_Fratelli_Rosselli Via_Luigi_Einaudi Viale_Papa_Giovanni_XXIII Via_Sant'Antonio Via_Nino_Bixio
    Via_Goffredo_Mameli Via_Aldo_Moro"""
)
UK_STREETS = _words(
    """High_Street Station_Road Church_Lane Victoria_Road Park_Avenue Green_Lane Manor_Road Church_Street
    The_Crescent Kings_Road Queens_Road Mill_Lane London_Road Albert_Road York_Road Grange_Road
    Springfield_Road The_Avenue Windsor_Road North_Street Chester_Road Oxford_Road Elm_Grove
    Beech_Avenue Highfield_Road Cedar_Close Orchard_Way St_John's_Road Meadow_View Riverside_Drive"""
)
UK_FLATS = ("Flat 2", "Flat 3", "Flat 7", "Flat 12", "Flat B")

# Mail providers: (domain, weight). Gmail addresses are dot-insensitive.
IT_MAIL = (
    ("gmail.com", 38),
    ("libero.it", 14),
    ("hotmail.it", 10),
    ("yahoo.it", 6),
    ("outlook.it", 6),
    ("virgilio.it", 4),
    ("tiscali.it", 3),
    ("alice.it", 4),
    ("icloud.com", 6),
    ("fastwebnet.it", 2),
)
UK_MAIL = (
    ("gmail.com", 34),
    ("hotmail.co.uk", 12),
    ("outlook.com", 10),
    ("yahoo.co.uk", 8),
    ("btinternet.com", 7),
    ("icloud.com", 9),
    ("sky.com", 4),
    ("live.co.uk", 4),
    ("aol.com", 2),
    ("virginmedia.com", 3),
)
DOMAIN_TYPOS = {
    "gmail.com": ("gmial.com", "gmail.con", "gmai.com", "gamil.com", "gmail.it", "gnail.com"),
    "libero.it": ("libreo.it", "libero.com", "liberi.it"),
    "hotmail.it": ("hotmial.it", "hotmail.ti", "hotmal.it"),
    "yahoo.it": ("yaho.it", "yahooo.it"),
    "outlook.it": ("outlok.it", "outloook.it"),
    "virgilio.it": ("virglio.it",),
    "tiscali.it": ("tiscalli.it",),
    "alice.it": ("alcie.it",),
    "icloud.com": ("iclod.com", "icloud.con", "icoud.com"),
    "fastwebnet.it": ("fastweb.it",),
    "hotmail.co.uk": ("hotmial.co.uk", "hotmail.co", "hotmal.co.uk"),
    "outlook.com": ("outlok.com", "outlook.con"),
    "yahoo.co.uk": ("yahoo.co", "yaho.co.uk"),
    "btinternet.com": ("btinternt.com", "btinternet.co"),
    "sky.com": ("sky.con",),
    "live.co.uk": ("live.co",),
    "aol.com": ("aol.co",),
    "virginmedia.com": ("virginmeda.com",),
}

# Small companies: name parts per country.
IT_COMPANY_WORDS = _words(
    """Impianti Serramenti Costruzioni Trasporti Consulenze Servizi Elettronica Arredamenti Tipografia
    Ottica Ferramenta Edilizia Informatica Logistica Studio_Tecnico Autoricambi Idraulica Pulizie"""
)
IT_COMPANY_FORMS = ("S.r.l.", "S.n.c.", "S.a.s.", "& Figli", "S.r.l.s.", "Studio Associato")
UK_COMPANY_WORDS = _words(
    """Plumbing Joinery Builders Logistics Consulting Electrical Interiors Print Opticians Hardware
    Lettings Accountants Motors Landscaping Roofing Cleaning Design Catering"""
)
UK_COMPANY_FORMS = ("Ltd", "Ltd", "& Sons", "LLP", "Services Ltd")
IT_MAILBOXES = ("info", "amministrazione", "ufficio", "segreteria", "contabilita", "commerciale")
UK_MAILBOXES = ("info", "office", "contact", "admin", "accounts", "hello")
