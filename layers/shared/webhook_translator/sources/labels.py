"""Form labels → what they ask for: normalisation and the multilingual synonym tables.

A label is normalised once (:func:`label_tokens`, cached): case folded, accents stripped,
camelCase and punctuation split, trailing numbers dropped (Webflow's "Email 2", "Phone 3").
Its tokens are then compared with the synonym tables, squashed (spaces removed, so
"E-Mail-Adresse", "e-mail adresse" and "emailadresse" are one entry):

1. the whole label ("Correo electrónico", "Voornaam", "E-mail");
2. the label without filler words ("What is your first name?", "Your Email Address:");
3. for e-mail, phone and names only: the label without a short dashed suffix ("Email-kom",
   "Name-kom"), or a synonym *inside* a longer label ("Email of contact person", "Mobile
   phone (work)") — longest match first, never in a label about somebody else ("Their
   email", "Emergency contact phone", "Friend's name").

Steps 1–2 are an exact match (:data:`EXACT`), step 3 a word match (:data:`WORDS`): the
identity resolver ranks an exact match above a word match, and takes a word match from
typed-in text only. Tables are built once per
process and per configuration (:func:`matcher`); every lookup of a label is cached.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any, Final

#: how a label matched: the whole label (or without fillers / suffix) vs a word inside it
EXACT: Final = 2
WORDS: Final = 3

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_NON_WORD = re.compile(r"[\W_]+")
_DASH_SUFFIX = re.compile(r"-[^\W\d_]{1,4}\s*$")
#: one syntactically valid e-mail address (no spaces, one @, a dot in the domain, no leading/trailing dot)
EMAIL_ADDRESS = re.compile(
    r"^[\w.!#$%&'*+/=?^`{|}~-]{1,64}@(?:[^\W_](?:[\w-]{0,61}[^\W_])?\.)+(?:[^\W\d_]{2,63}|xn--[\w-]{2,59})$"
)


def is_email_address(text: str) -> bool:
    """True for one syntactically valid address (what an e-mail answer must hold to be used)."""
    return (
        len(text) <= 254
        and EMAIL_ADDRESS.match(text) is not None
        and ".." not in text
        and ".@" not in text
        and text[0] != "."
    )


def _fold(text: str) -> str:
    """Case folded, accents stripped ('Förnamn' → 'fornamn', 'Correo electrónico' → 'correo electronico')."""
    text = unicodedata.normalize("NFKD", _CAMEL.sub(" ", text).casefold())
    return "".join(c for c in text if not unicodedata.combining(c)).replace("ß", "ss")


@lru_cache(maxsize=8192)
def label_tokens(label: str) -> tuple[str, ...]:
    """The words of a label, normalised; trailing numbers dropped ('E-mail Address 2*' → ('e', 'mail', 'address'))."""
    words = _NON_WORD.sub(" ", _fold(label)).split()
    while len(words) > 1 and words[-1].isdigit():
        words.pop()
    return tuple(words)


def squash(label: str) -> str:
    """A label or synonym as one comparable string ('E-Mail-Adresse' → 'emailadresse')."""
    return "".join(label_tokens(label))


def normalize_label(text: str) -> str:
    """'E-mail Address*' → 'e mail address'; 'phoneNumber' → 'phone number' (the words, space-separated)."""
    return " ".join(label_tokens(text))


# --- the tables ------------------------------------------------------------------------------------
# English, Spanish, French, German, Dutch, Portuguese, Italian, Swedish. Written as people write
# them; compared squashed and without accents. A word in WEAK matches a whole label only.
# fmt: off

#: campaign and click ids: a hidden field named after one fills it
TRACKING_KEYS: Final = (
    "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "gclid", "gbraid", "wbraid", "fbclid",
    "fbc", "fbp", "msclkid", "ttclid", "twclid", "li_fat_id", "rdt_cid", "sccid",
)

SYNONYMS: Mapping[str, tuple[str, ...]] = {
    "user_id": ("ours user id", "ours userid", "ours visitor id"),
    "external_id": ("user id", "userid", "external id", "externalid", "customer id", "member id"),
    "email": (
        "email", "e-mail", "mail", "email address", "e-mail address", "your email", "work email", "business email",
        "contact email", "correo", "correo electrónico", "dirección de correo", "dirección de correo electrónico",
        "correo-e", "email de contacto", "courriel", "adresse e-mail", "adresse mail", "adresse électronique",
        "adresse courriel", "e-mail-adresse", "emailadresse", "mailadresse", "e-mailadres", "mailadres",
        "endereço de e-mail", "endereço de email", "correio eletrônico", "indirizzo email", "indirizzo e-mail",
        "posta elettronica", "e-post", "e-postadress", "epost", "mejl", "mejladress",
    ),
    "phone_number": (
        "phone", "phone number", "telephone", "telephone number", "tel", "mobile", "mobile phone", "mobile number",
        "cell", "cell phone", "cellphone", "your phone", "contact number", "whatsapp", "teléfono", "número de teléfono",
        "móvil", "celular", "téléphone", "numéro de téléphone", "portable", "telefon", "telefonnummer", "handynummer",
        "mobilnummer", "telefoon", "telefoonnummer", "mobiel", "mobiele nummer", "telefone", "telemóvel",
        "numero di telefono", "cellulare", "mobiltelefon",
    ),
    "first_name": (
        "first name", "firstname", "first", "given name", "fname", "forename", "nombre", "primer nombre", "prénom",
        "vorname", "voornaam", "primeiro nome", "nome próprio", "nome", "förnamn",
    ),
    "last_name": (
        "last name", "lastname", "last", "surname", "family name", "lname", "apellido", "apellidos", "nom de famille",
        "nom", "nachname", "familienname", "achternaam", "sobrenome", "apelido", "cognome", "efternamn",
    ),
    "full_name": (
        "name", "full name", "fullname", "your name", "contact name", "nombre completo", "nom complet",
        "vollständiger name", "volledige naam", "naam", "nome completo", "namn", "fullständigt namn",
    ),
    "company_name": (
        "company", "company name", "organization", "organisation", "business name", "your company", "empresa",
        "entreprise", "société", "firma", "unternehmen", "bedrijf", "bedrijfsnaam", "azienda", "företag",
    ),
    "job_title": ("job title", "jobtitle", "your job title", "role title", "cargo", "poste", "position"),
    "date_of_birth": (
        "date of birth", "birth date", "birthdate", "dob", "birthday", "fecha de nacimiento", "date de naissance",
        "geburtsdatum", "geboortedatum", "data de nascimento", "data di nascita", "födelsedatum",
    ),
    "gender": ("gender", "sex", "género", "sexo", "sexe", "genre", "geschlecht", "geslacht", "genere", "kön"),
    "city": ("city", "town", "ciudad", "ville", "stadt", "ort", "stad", "woonplaats", "cidade", "città"),
    "state": ("state", "province", "region", "state province", "provincia", "estado", "bundesland", "provincie"),
    "zip": (
        "zip", "zip code", "zipcode", "postal code", "postcode", "postal", "post code", "código postal",
        "code postal", "postleitzahl", "plz", "cap", "postnummer",
    ),
    "country": ("country", "país", "pays", "land", "paese"),
    **{key: (key,) for key in TRACKING_KEYS},
}

#: targets whose synonyms are looked for inside a longer label (step 4)
WORD_TARGETS: Final = frozenset({"email", "phone_number", "first_name", "last_name", "full_name"})
#: words too common to mean the target inside a longer label ("How did you *first* hear…", "*Nombre* de…")
WEAK: Final = frozenset({
    "first", "last", "name", "mail", "tel", "mobile", "cell", "portable", "nombre", "nome", "nom", "naam", "namn",
    "fname", "lname", "movil", "mobiel", "celular", "whatsapp", "post", "land", "ort", "cap", "plz",
})
#: words of a question that say nothing about what it asks
FILLERS: Final = frozenset({
    "what", "s", "is", "are", "your", "you", "the", "a", "an", "please", "enter", "my", "our", "of", "required",
    "optional", "cual", "es", "tu", "su", "por", "favor", "introduce", "escribe", "quel", "quelle", "est", "votre",
    "ton", "ta", "vos", "veuillez", "saisir", "wie", "ist", "ihr", "ihre", "ihren", "dein", "deine", "bitte", "geben",
    "sie", "wat", "uw", "je", "jouw", "vul", "in", "qual", "o", "seu", "sua", "teu", "tua", "digite", "informe",
    "il", "tuo", "la", "vostro", "inserisci", "vad", "ar", "din", "ditt", "ange",
})
#: a label about somebody else: never a word match for the respondent's e-mail, phone or name
OTHERS: Final = frozenset({
    "their", "friend", "friends", "referral", "referred", "referee", "referrer", "emergency", "recipient",
    "colleague", "coworker", "manager", "spouse", "doctor", "physician", "assistant", "amigo", "amiga", "emergencia",
    "urgence", "ami", "amie", "freund", "freundin", "notfall", "vriend", "noodgeval", "amico", "emergenza", "nodfall",
})
# fmt: on

#: one override layer as a hashable key: ((target, (label, ...)), ...)
LayerKey = tuple[tuple[str, tuple[str, ...]], ...]


class LabelMatcher:
    """Label → (target, how it matched) for the default tables and the configured ``synonyms`` layers."""

    __slots__ = ("_exact", "_longest", "_words", "lookup")

    def __init__(self, layers: tuple[LayerKey, ...]) -> None:
        self._exact: dict[str, str] = {}
        self._words: dict[str, str] = {}
        for layer in (tuple(SYNONYMS.items()), *layers):
            for target, labels in layer:
                for label in labels:
                    key = squash(label)
                    if not key:
                        continue
                    self._exact[key] = target
                    if target in WORD_TARGETS and key not in WEAK:
                        self._words[key] = target
                    else:
                        self._words.pop(key, None)
        self._longest = max(
            (
                len(label_tokens(label))
                for layer in (tuple(SYNONYMS.items()), *layers)
                for _, labels in layer
                for label in labels
            ),
            default=1,
        )
        self.lookup = lru_cache(maxsize=4096)(self._match)

    def target(self, label: str | None) -> str | None:
        """The target a label asks for, or None."""
        found = self.lookup(label) if label else None
        return found[0] if found else None

    def _match(self, label: str) -> tuple[str, int] | None:
        tokens = label_tokens(label)
        whole = "".join(tokens)
        if whole in self._exact:
            return self._exact[whole], EXACT
        essential = "".join(t for t in tokens if t not in FILLERS)
        if essential and essential in self._exact:
            return self._exact[essential], EXACT
        stripped = _DASH_SUFFIX.sub("", label)
        if stripped != label and (short := self._exact.get(squash(stripped))) in WORD_TARGETS:
            return short, WORDS  # "Email-kom": as sure as a word inside the label
        return self._word_match(tokens)

    def _word_match(self, tokens: tuple[str, ...]) -> tuple[str, int] | None:
        """The longest run of words inside the label that is a synonym (never in a label about someone else)."""
        if any(t in OTHERS for t in tokens):
            return None
        for size in range(min(len(tokens), self._longest), 0, -1):
            for start in range(len(tokens) - size + 1):
                target = self._words.get("".join(tokens[start : start + size]))
                if target is not None:
                    return target, WORDS
        return None


@lru_cache(maxsize=256)
def matcher(*layers: LayerKey) -> LabelMatcher:
    """The matcher for the defaults plus ``layers`` (a later layer wins a label): built once per configuration."""
    return LabelMatcher(layers)


def layer_key(overrides: Mapping[Any, Sequence[str]]) -> LayerKey:
    """A ``synonyms`` option as a hashable layer."""
    return tuple((str(target), tuple(labels)) for target, labels in overrides.items())
