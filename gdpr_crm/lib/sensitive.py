# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Special-category data (GDPR art. 9 and 10) and identifiers in free text.

Pure Python, no Odoo import. :func:`detect` finds, in French and English:

- art. 9 data: health, racial or ethnic origin, political opinions,
  religious or philosophical beliefs, trade-union membership, genetic and
  biometric data, sex life or sexual orientation;
- art. 10 data: criminal offences, convictions and records;
- identifiers checked with their checksum: the French social security
  number (NIR, with its key), IBANs (ISO 13616 mod 97) and payment card
  numbers (Luhn, known issuer prefixes and lengths).

How: the text is decoded (bytes in UTF-8, each invalid byte read as
Windows-1252, so mixed encodings never fail), HTML markup, scripts and
styles are skipped (entities decoded), letters are case- and accent-folded
one character for one character, then cut into words. Rules are short word
sequences over those words (exact words, word prefixes that cover plurals
and inflections, classes such as "a form of *to be*", optional words and
wildcards), some valid only with a context word nearby, some negative
(idioms such as "religieusement", "company DNA", "genetic algorithm" that
cancel a match). Every step is linear in the text's length, and the input
is cut at :data:`MAX_CHARS`.

Each finding carries its category, a confidence in [0, 1] and the span
``(start, end)`` in the text as given (for HTML: in the markup itself, so
that :func:`redact` can replace it in place).
"""

import bisect
import hashlib
import html
import re
import unicodedata
from collections import namedtuple

__all__ = [
    "CATEGORIES",
    "Finding",
    "detect",
    "excerpt",
    "fingerprint",
    "iban_valid",
    "luhn_valid",
    "nir_valid",
    "redact",
    "to_text",
]

#: category code -> English label (the Odoo model translates the labels)
CATEGORIES = {
    "health": "Health",
    "ethnic_origin": "Racial or ethnic origin",
    "political": "Political opinions",
    "religion": "Religious or philosophical beliefs",
    "trade_union": "Trade-union membership",
    "genetic": "Genetic data",
    "biometric": "Biometric data",
    "sex_life": "Sex life or sexual orientation",
    "criminal": "Criminal offences or convictions",
    "nir": "French social security number (NIR)",
    "iban": "Bank account number (IBAN)",
    "card": "Payment card number",
}

#: a longer text is read up to this many characters (1 MB notes are read whole)
MAX_CHARS = 2_000_000
#: findings under this confidence are not returned by default
DEFAULT_MIN_CONFIDENCE = 0.5

Finding = namedtuple("Finding", "category confidence start end text")


# ---------------------------------------------------------------------------
# Decoding
# ---------------------------------------------------------------------------
# a byte that is not UTF-8, kept by "surrogateescape" as U+DC80..U+DCFF, read as Windows-1252
_SURROGATE_TO_CP1252 = {0xDC00 + byte: bytes([byte]).decode("cp1252", errors="replace") for byte in range(0x80, 0x100)}
_ASCII_LOWER = {code: code + 32 for code in range(ord("A"), ord("Z") + 1)}


def to_text(value):
    """Return ``value`` as ``str``: bytes are read as UTF-8, and each byte
    that is not valid UTF-8 as Windows-1252 (or Latin-1), so that a text
    mixing both encodings keeps its accents and never raises."""
    if value is None or value is False:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bytes | bytearray | memoryview):
        data = bytes(value)
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return data.decode("utf-8", errors="surrogateescape").translate(_SURROGATE_TO_CP1252)
    return str(value)


# ---------------------------------------------------------------------------
# HTML: keep the text, skip the markup, map positions back to the markup
# ---------------------------------------------------------------------------
_ENTITY_RE = re.compile(r"&(#[0-9]{1,7};?|#[xX][0-9a-fA-F]{1,6};?|[a-zA-Z][a-zA-Z0-9]{1,31};)")
_RAW_TEXT_TAGS = ("script", "style", "textarea", "title", "template")


_TAG_RE = re.compile(r"<[a-zA-Z/!?][^>]*>")
_BLOCK_START_RE = re.compile(r"<(?:(script|style|template)\b|!--)", re.IGNORECASE)


def _blank(match):
    return " " * (match.end() - match.start())


def _blank_markup(raw):
    """``raw`` with its tags, comments, scripts and styles replaced by as many
    spaces (so that every offset stays valid). Linear: an unclosed block or
    tag runs to the end of the text."""
    last = raw.rfind(">")
    if last < 0:
        return raw
    pieces, pos = [], 0
    lower = None
    for match in _BLOCK_START_RE.finditer(raw):
        if match.start() < pos:
            continue
        if lower is None:
            lower = raw.translate(_ASCII_LOWER)  # same length as raw, unlike str.lower()
        closer = "</" + match.group(1).lower() if match.group(1) else "-->"
        end = lower.find(closer, match.end())
        end = len(raw) if end < 0 else raw.find(">", end) + 1 or len(raw)
        pieces.append(raw[pos : match.start()])
        pieces.append(" " * (end - match.start()))
        pos = end
    pieces.append(raw[pos:])
    text = "".join(pieces) if len(pieces) > 1 else raw
    last = text.rfind(">")
    return _TAG_RE.sub(_blank, text[: last + 1]) + text[last + 1 :]


class _Text:
    """The readable text of a (possibly HTML) string, with a map from its
    offsets back to offsets in the original string."""

    __slots__ = ("_clean_starts", "_lengths", "_orig_starts", "clean")

    def __init__(self, raw):
        self._clean_starts = None
        if "&" not in raw:
            # markup only (the usual case): blank it out, offsets are kept as they are
            self.clean = _blank_markup(raw) if "<" in raw else raw
            return
        pieces, clean_starts, orig_starts, lengths = [], [], [], []
        clean_len = 0

        def add(text, orig_start, orig_len):
            nonlocal clean_len
            if not text:
                return
            pieces.append(text)
            clean_starts.append(clean_len)
            orig_starts.append(orig_start)
            # same length: a literal piece; otherwise the piece maps to its whole source
            lengths.append(orig_len)
            clean_len += len(text)

        def add_literal(start, end):
            # decode the entities of raw[start:end]
            pos = start
            for match in _ENTITY_RE.finditer(raw, start, end):
                if match.start() > pos:
                    add(raw[pos : match.start()], pos, match.start() - pos)
                decoded = html.unescape(match.group(0)) or " "
                add(decoded, match.start(), match.end() - match.start())
                pos = match.end()
            if pos < end:
                add(raw[pos:end], pos, end - pos)

        lower = raw.translate(_ASCII_LOWER) if "<" in raw else ""
        size, pos = len(raw), 0
        while pos < size:
            lt = raw.find("<", pos)
            if lt < 0:
                add_literal(pos, size)
                break
            nxt = raw[lt + 1 : lt + 2]
            if not (nxt.isalpha() or nxt in ("/", "!", "?")):
                # a lone "<" (e.g. "a < b"): text
                add_literal(pos, lt + 1)
                pos = lt + 1
                continue
            add_literal(pos, lt)
            gt = raw.find(">", lt + 1)
            if gt < 0:
                add_literal(lt, size)  # never closed: text (no later "<" can close either)
                break
            if raw.startswith("<!--", lt):
                end = raw.find("-->", lt + 4)
                gt = size - 1 if end < 0 else end + 2
            else:
                parts = lower[lt + 1 : gt].split(None, 1)
                name = parts[0].rstrip("/") if parts else ""
                if name in _RAW_TEXT_TAGS and name != "title" and name != "textarea":
                    end = lower.find("</" + name, gt + 1)
                    if end < 0:
                        break
                    close = raw.find(">", end)
                    gt = size - 1 if close < 0 else close
            add(" ", lt, gt + 1 - lt)  # a tag separates words
            pos = gt + 1
        self.clean = "".join(pieces)
        self._clean_starts = clean_starts
        self._orig_starts = orig_starts
        self._lengths = lengths

    def to_orig(self, start, end):
        """Map a span of :attr:`clean` to a span of the original string."""
        if self._clean_starts is None:
            return start, end
        return self._map(start, False), self._map(end, True)

    def _map(self, pos, is_end):
        starts = self._clean_starts
        idx = bisect.bisect_right(starts, pos - 1 if is_end else pos) - 1
        if idx < 0:
            return 0
        offset = pos - starts[idx]
        next_start = starts[idx + 1] if idx + 1 < len(starts) else None
        piece_len = (next_start if next_start is not None else len(self.clean)) - starts[idx]
        if piece_len == self._lengths[idx]:
            return self._orig_starts[idx] + offset
        # an entity or a tag: its whole source
        return self._orig_starts[idx] + (self._lengths[idx] if is_end else 0)


# ---------------------------------------------------------------------------
# Folding: lower case, no accents, one character for one character
# ---------------------------------------------------------------------------
def _build_fold_table():
    table = {}
    for code in range(0x00C0, 0x0250):
        char = chr(code)
        base = unicodedata.normalize("NFD", char.lower())[0]
        if base.isascii() and base.isalpha():
            table[code] = base
    for src, dst in {"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u00a0": " ", "\u202f": " ", "\u2011": "-"}.items():
        table[ord(src)] = dst
    for code in range(ord("A"), ord("Z") + 1):
        table[code] = chr(code + 32)
    return table


_FOLD = _build_fold_table()


_FOLD_CHARS = {chr(code): char for code, char in _FOLD.items()}
_NON_ASCII_RE = re.compile(r"[^\x00-\x7f]")


def _fold(text):
    lower = text.lower()
    if lower.isascii():
        return lower
    if len(lower) != len(text):  # a character whose lower case is longer (e.g. U+0130)
        return text.translate(_FOLD)
    return _NON_ASCII_RE.sub(lambda m: _FOLD_CHARS.get(m.group(0), m.group(0)), lower)


# ---------------------------------------------------------------------------
# Identifiers
# ---------------------------------------------------------------------------
def nir_valid(value):
    """True if ``value`` (digits, spaces allowed, Corsica as 2A/2B) is a
    French NIR whose 2-digit key matches: key = 97 - (13 digits mod 97)."""
    compact = re.sub(r"[\s.\-]", "", str(value)).upper()
    if not re.fullmatch(r"[12378][0-9]{4}(?:[0-9]{2}|2A|2B)[0-9]{8}", compact):
        return False
    body, key = compact[:13], int(compact[13:])
    body = body.replace("2A", "19").replace("2B", "18")
    month = int(compact[3:5])
    if not (1 <= month <= 12 or 20 <= month <= 42 or 50 <= month <= 99):
        return False
    return 97 - int(body) % 97 == key


#: IBAN length per country (ISO 13616 registry, common European countries and a few others)
IBAN_LENGTHS = {
    "ad": 24, "ae": 23, "al": 28, "at": 20, "ba": 20, "be": 16, "bg": 22, "br": 29, "ch": 21,
    "cy": 28, "cz": 24, "de": 22, "dk": 18, "ee": 20, "es": 24, "fi": 18, "fo": 18, "fr": 27,
    "gb": 22, "gi": 23, "gl": 18, "gr": 27, "hr": 21, "hu": 28, "ie": 22, "is": 26, "it": 27,
    "li": 21, "lt": 20, "lu": 20, "lv": 21, "ma": 28, "mc": 27, "me": 22, "mk": 19, "mt": 31,
    "nl": 18, "no": 15, "pl": 28, "pt": 25, "ro": 24, "rs": 22, "sa": 24, "se": 24, "si": 19,
    "sk": 24, "sm": 27, "tn": 24, "tr": 26, "ua": 29, "va": 22,
}  # fmt: skip


def iban_valid(value):
    """True if ``value`` (spaces allowed) is an IBAN of the right length for
    its country whose ISO 7064 mod 97-10 check gives 1."""
    compact = re.sub(r"[\s\-]", "", str(value)).lower()
    if not re.fullmatch(r"[a-z]{2}[0-9]{2}[a-z0-9]{11,30}", compact):
        return False
    if IBAN_LENGTHS.get(compact[:2], len(compact)) != len(compact):
        return False
    return _mod97(compact) == 1


def _mod97(compact):
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97


def luhn_valid(digits):
    """True if the digit string passes the Luhn check."""
    digits = re.sub(r"[\s\-]", "", str(digits))
    if not digits.isdigit():
        return False
    total = 0
    for idx, char in enumerate(reversed(digits)):
        num = ord(char) - 48
        if idx % 2:
            num *= 2
            if num > 9:
                num -= 9
        total += num
    return total % 10 == 0


def _card_issuer_ok(digits):
    """Known card issuer prefix and length (14-digit numbers are left out:
    every French SIRET passes Luhn)."""
    size = len(digits)
    if digits[0] == "4":
        return size in (13, 16, 19)
    two, four = int(digits[:2]), int(digits[:4])
    if 51 <= two <= 55 or 2221 <= four <= 2720:
        return size == 16
    if two in (34, 37):
        return size == 15
    if four == 6011 or two == 65 or 644 <= int(digits[:3]) <= 649:
        return 16 <= size <= 19
    if 3528 <= four <= 3589 or two == 62:
        return 16 <= size <= 19
    return False


_NIR_RE = re.compile(
    r"(?<![0-9a-z])([12378])[ .]?([0-9]{2})[ .]?([0-9]{2})[ .]?([0-9]{2}|2a|2b)"
    r"[ .]?([0-9]{3})[ .]?([0-9]{3})[ .]?([0-9]{2})(?![0-9])"
)
_IBAN_RE = re.compile(r"(?<![0-9a-z])[a-z]{2}[0-9]{2}(?:[ \-]?[0-9a-z]){11,30}")
_CARD_RE = re.compile(r"(?<![0-9])[0-9](?:[ \-]?[0-9]){12,18}(?![0-9])")
_NIR_CONTEXT = re.compile(
    r"\b(?:nir|secu|securite sociale|social security|insee|carte vitale|n ?° ?ss|numero ss|ssn)\b"
)
_CARD_CONTEXT = re.compile(r"\b(?:carte|card|cb|visa|mastercard|amex|cvv|cvc|crypto\w*|expir\w*|exp)\b")
_IBAN_CONTEXT = re.compile(r"\b(?:iban|rib|bic|swift|compte|account|virement|transfer|wire|prelevement|debit)\b")


def _context_near(regex, folded, start, end, width=60):
    return regex.search(folded, max(0, start - width), min(len(folded), end + width)) is not None


def _identifiers(folded):
    """Yield ``(category, confidence, start, end)`` of checksummed identifiers."""
    if sum(map(folded.count, "0123456789")) < 11:
        return  # every identifier has more digits
    taken = []
    for match in _NIR_RE.finditer(folded):
        if nir_valid("".join(match.groups())):
            conf = 0.99 if _context_near(_NIR_CONTEXT, folded, match.start(), match.end()) else 0.9
            taken.append((match.start(), match.end()))
            yield "nir", conf, match.start(), match.end()
    for match in _IBAN_RE.finditer(folded):
        chars = [(i, c) for i, c in enumerate(match.group(0), match.start()) if c not in " -"]
        country = "".join(c for _i, c in chars[:2])
        lengths = [IBAN_LENGTHS[country]] if country in IBAN_LENGTHS else range(15, 35)
        for size in lengths:
            if size > len(chars):
                break
            compact = "".join(c for _i, c in chars[:size])
            if compact[2:4].isdigit() and _mod97(compact) == 1:
                start, end = match.start(), chars[size - 1][0] + 1
                conf = 0.99 if _context_near(_IBAN_CONTEXT, folded, start, end) else 0.9
                taken.append((start, end))
                yield "iban", conf, start, end
                break
    for match in _CARD_RE.finditer(folded):
        start = match.start()
        if any(s < match.end() and start < e for s, e in taken):
            continue
        positions = [i for i, c in enumerate(match.group(0), start) if c.isdigit()]
        digits = "".join(folded[i] for i in positions)
        # the whole run of digits, never a part of it (a part passes Luhn one time in ten)
        if _card_issuer_ok(digits) and luhn_valid(digits):
            conf = 0.99 if _context_near(_CARD_CONTEXT, folded, start, match.end()) else 0.85
            yield "card", conf, start, match.end()


# ---------------------------------------------------------------------------
# Word rules
# ---------------------------------------------------------------------------
#: classes usable in rules as @name
CLASSES = {
    # forms of "to be" (FR, EN)
    "be": "est sont etait etaient etre devenu devenue is are was were s been being",
    # people
    "person": "homme hommes femme femmes client cliente clients famille familles monsieur madame mari epouse "
    "pere mere fils fille gars personne couple gerant gerante patron patronne man men woman women guy family "
    "customer husband wife father mother son daughter person people owner lady gentleman boy girl parents",
    # adjectives of ethnic origin, and nationalities read as an origin after "origine" / "descent"
    "ethnic": "noir noire noirs noires black arabe arabes arab arabs maghrebin* asiatique* asian hispanic "
    "latino latina latinos latinas metis metisse metisses caucasien* caucasian gitan gitane gitans gitanes "
    "tsigane* rom roms roma romani kurde* kurdish antillais* beur beurette rebeu african* africain*",
    "nation": "algerien* marocain* tunisien* senegalais* malien* ivoirien* camerounais* turc turque turcs "
    "chinois* vietnamien* cambodgien* indien* pakistanais* portugais* polonais* italien* espagnol* juive juif "
    "algerian moroccan tunisian senegalese nigerian ghanaian turkish chinese vietnamese indian pakistani "
    "bangladeshi jamaican caribbean irish polish italian mexican korean japanese filipino somali ethiopian "
    "european etrangere etranger immigre* immigree* jewish",
    "party": "rassemblement front parti france insoumise republicains reconquete socialiste communiste "
    "party labour tory tories conservative democratic republican green liberal",
}

# (category, confidence, pattern, context or None)
#   pattern and context: words separated by spaces; "a|b" alternatives; "x*" a word prefix;
#   "@name" a class; "_" any word; a trailing "?" makes an element optional.
#   category None: a negative rule, its words cancel any other match.
#   context: the rule holds only if one of these words is within 4 words of the match.
RULES = [
    # ---- health ----
    ("health", 0.9, "diabet*", None),
    ("health", 0.8, "cancer|cancers|cancereu*|cancerous", None),
    ("health", 0.9, "chimio*|chemo*|radiotherap*|dialys*|insulin*|insuline", None),
    ("health", 0.85, "tumeur*|tumor*|tumour*|leucemi*|leukaemi*|leukemi*", None),
    ("health", 0.85, "@be enceinte|enceintes", None),
    ("health", 0.85, "femme|femmes enceinte|enceintes", None),
    ("health", 0.85, "enceinte de _ mois|semaines", None),
    ("health", 0.9, "grossesse*|pregnan*|miscarriage*|ivf|fiv|infertil*|sterilit*", None),
    ("health", 0.9, "fausse|fausses couche|couches", None),
    ("health", 0.9, "alzheimer*|parkinson*|sclerose*|sclerosis|epilep*|asthm*|bipolaire*|bipolar", None),
    ("health", 0.9, "schizophren*|autis*|psychiatr*|psychos*|depressi*|antidepress*|anxiolyti*", None),
    ("health", 0.9, "seropositi*|sida|vih|hiv|hepatite*|hepatitis|covid", None),
    ("health", 0.85, "handicap*|disabled|disabilit*|invalidite|paraplegi*|tetraplegi*|quadripleg*", None),
    ("health", 0.85, "allergi*|allergique*|allerg*", None),
    ("health", 0.85, "burn out", None),
    ("health", 0.85, "burnout|burnouts", None),
    ("health", 0.85, "alcoolique*|alcoolisme|alcoholic*|alcoholism|toxicoman*|addict|addicts|addiction*", None),
    ("health", 0.85, "anorexi*|boulimi*|bulimi*|obese|obeses|obesite|obesity", None),
    ("health", 0.9, "avc|infarctus|cardiaque|cardiaques|cardiac", None),
    ("health", 0.85, "crise|crises|attaque d|de epilepsie|asthme|angoisse|panique", None),
    ("health", 0.85, "hospitalis*|hospitaliz*", None),
    ("health", 0.9, "heart attack*|disease*|condition*|failure|surgery", None),
    ("health", 0.85, "had|suffered|has a? stroke*", None),
    ("health", 0.85, "arret*|conge|conges maladie", None),
    ("health", 0.85, "maladie|maladies d|de alzheimer|parkinson|crohn|lyme|charcot", None),
    ("health", 0.8, "@be malade|malades", None),
    (None, 0, "malade|malades de|du|des", None),
    ("health", 0.85, "probleme*|souci*|raison*|ennui*|etat de sante", None),
    ("health", 0.85, "health problem*|issue*|condition*|reason*", None),
    ("health", 0.85, "poor|bad|ill|mental health", None),
    ("health", 0.85, "sante mentale", None),
    ("health", 0.9, "sick leave|note", None),
    ("health", 0.75, "@be sick|ill|unwell", None),
    (None, 0, "sick of", None),
    ("health", 0.9, "fauteuil|fauteuils roulant*", None),
    ("health", 0.9, "wheelchair*", None),
    ("health", 0.85, "sourd|sourde|sourds|sourdes|malentendant*|deaf", None),
    ("health", 0.8, "@be aveugle|blind|malvoyant*", None),
    ("health", 0.85, "troubles bipolaires|psychiques|mentaux|alimentaires|anxieux", None),
    ("health", 0.85, "psychiatrist*|psychotherap*|antidepressant*", None),
    ("health", 0.75, "medicament*|medication*|traitement|treatment", "son|sa|ses|his|her|sous|on|lourd|heavy"),
    (None, 0, "depression atmospherique|tropicale|great", None),
    (None, 0, "the great depression", None),
    # ---- racial or ethnic origin ----
    ("ethnic_origin", 0.9, "ethni*|racial*|racis*", None),
    ("ethnic_origin", 0.9, "origine|origines @ethnic|@nation", None),
    ("ethnic_origin", 0.9, "@ethnic|@nation descent|origin|origins|heritage|ancestry|background", None),
    ("ethnic_origin", 0.85, "@be @ethnic", None),
    ("ethnic_origin", 0.85, "@person @ethnic", None),
    ("ethnic_origin", 0.85, "@ethnic @person", None),
    ("ethnic_origin", 0.9, "mixed race|heritage", None),
    ("ethnic_origin", 0.9, "african american*|afro americain*|couleur de peau|skin colour|color", None),
    (None, 0, "black friday|box|boxes|list", None),
    # ---- political opinions ----
    ("political", 0.9, "communist*|communiste*|socialist|socialists|trotskis*|trotskyis*|anarchist*", None),
    ("political", 0.9, "gauchiste*|leftist*|lepeniste*|macroniste*|zemmourist*|royaliste*|insoumis*|maga", None),
    ("political", 0.85, "ecologiste*|militant|militante|militants|militantes|milite|militait|activist*", None),
    ("political", 0.9, "rassemblement|front national", None),
    ("political", 0.9, "france insoumise", None),
    ("political", 0.9, "parti socialiste|communiste|radical|ecologiste|animaliste|pirate", None),
    ("political", 0.85, "les republicains", None),
    ("political", 0.9, "extreme droite|gauche", None),
    ("political", 0.9, "far right|left", None),
    ("political", 0.9, "right|left wing|winger|wingers", None),
    ("political", 0.85, "@be de droite|gauche", None),
    ("political", 0.85, "vot* a|pour la? droite|gauche", None),
    ("political", 0.85, "marque*|ancre*|engage* a droite|gauche", None),
    ("political", 0.9, "opinion*|conviction*|engagement*|idees|sympathie* politique*", None),
    ("political", 0.9, "political view*|opinion*|belief*|affiliation*|leaning*|activist*|activism", None),
    ("political", 0.85, "gilet|gilets jaune|jaunes", "convaincu*|manif*|mouvement|militant*|samedi"),
    ("political", 0.85, "republican|republicans|democrat|democrats|tory|tories|ukip", None),
    ("political", 0.9, "labour|conservative|green|liberal|reform|democratic|republican party", None),
    ("political", 0.9, "lib|liberal dem|dems|democrat|democrats", None),
    ("political", 0.9, "trump|biden|harris|obama|sanders|farage|corbyn supporter*|voter*|fan|fans", None),
    (
        "political",
        0.85,
        "sympathisant*|adherent*|adherente*|encarte*|membre*|candidat* au|du|chez|a la|le|les? @party",
        None,
    ),
    ("political", 0.85, "member*|candidate* of the @party party", None),
    # ---- religious or philosophical beliefs ----
    ("religion", 0.9, "musulman*|muslim*|islam*|catholique*|catholic*|protestant*|bouddhis*|buddhis*", None),
    ("religion", 0.9, "juif|juifs|juive|juives|jewish|jew|jews|judaism*|judaisme|hindou*|hindu*|sikh*", None),
    ("religion", 0.9, "athee|athees|atheis*|agnosti*|chretien*|evangeli*|mormon*|scientolog*|amish", None),
    ("religion", 0.75, "christian|christians", None),
    ("religion", 0.9, "mosquee*|mosque*|synagogue*|ramadan|shabbat|sabbat|sabbath|kippa*|hijab*|burqa*|niqab*", None),
    ("religion", 0.8, "kosher|casher|halal", None),
    ("religion", 0.9, "temoin|temoins de jehovah", None),
    ("religion", 0.9, "jehovah*|sunnite*|chiite*|sunni|shia|shiite*|salafis*", None),
    ("religion", 0.85, "religion|religions|religieux|religieuse|religieuses|religious", None),
    (None, 0, "religieuse|religieuses au|a|aux chocolat|cafe|caramel|la", None),
    ("religion", 0.85, "croyant*|pratiquant*|practising|practicing|devout|pieux|pieuse", None),
    ("religion", 0.85, "va|vont|allait|aller a la messe", None),
    ("religion", 0.85, "messe du dimanche", None),
    ("religion", 0.85, "attend*|goes|go|going|went to? mass|church", None),
    ("religion", 0.8, "his|her|their|sa church|parish|paroisse", None),
    ("religion", 0.85, "porte|portent|portait le voile", None),
    ("religion", 0.85, "voile islamique", None),
    ("religion", 0.85, "headscarf|headscarves", None),
    ("religion", 0.9, "franc|francs macon*|maconne*", None),
    ("religion", 0.9, "freemason*|maconni*|masonic", None),
    ("religion", 0.85, "grand orient", None),
    ("religion", 0.85, "convictions|croyances religieuses|philosophiques", None),
    ("religion", 0.85, "prieres|priere du vendredi", None),
    ("religion", 0.85, "friday prayer|prayers", None),
    # ---- trade-union membership ----
    ("trade_union", 0.9, "syndiqu*|syndical*|unionised|unionized|unionist*|teamster*", None),
    ("trade_union", 0.85, "cgt|cfdt|unsa|cftc|cgc|snes|fsu", None),
    ("trade_union", 0.9, "force ouvriere", None),
    ("trade_union", 0.9, "sud rail|ptt|sante|education|solidaires|industrie", None),
    ("trade_union", 0.9, "adherent*|membre*|delegue*|represent*|militant* du|au|de|d syndicat", None),
    ("trade_union", 0.9, "trade|labor|labour union|unions", None),
    ("trade_union", 0.9, "union member*|rep|reps|representative*|dues|card|official*|steward*|activist*", None),
    ("trade_union", 0.9, "shop steward*", None),
    ("trade_union", 0.85, "joined|joins|join|member the|a _? _? union", None),
    (None, 0, "european|credit union", None),
    # ---- genetic data ----
    (
        "genetic",
        0.85,
        "genetique*|genetic*|genetically",
        "test|tests|testing|analyse*|analysis|depistage|screening|mutation*|maladie*|disorder*|disease*|predisposition*|"
        "profil*|condition*|risque*|risk*|marqueur*|marker*|anomal*|heredit*|conseil|counselling|porteur*|carrier*",
    ),
    (
        "genetic",
        0.85,
        "adn|dna",
        "test|tests|testing|analyse*|analysis|echantillon*|sample*|paternit*|profil*|profile*|resultat*|result*|"
        "prelevement*|sequen*|kit",
    ),
    ("genetic", 0.9, "brca*|genome*|genomi*|caryotyp*|karyotyp*|trisomi*|mucoviscidose|huntington", None),
    ("genetic", 0.9, "down|downs syndrome", None),
    ("genetic", 0.85, "cystic fibrosis", None),
    ("genetic", 0.9, "porteur|porteuse|carrier|carriers|carries|carry _? _? _? gene|genes|gene", None),
    ("genetic", 0.9, "test*|recherche de paternite", None),
    ("genetic", 0.9, "paternity test*", None),
    ("genetic", 0.9, "23andme|ancestrydna", None),
    (None, 0, "algorithme|algorithmes genetique*", None),
    (None, 0, "genetic algorithm*", None),
    # ---- biometric data ----
    ("biometric", 0.9, "biometri*", None),
    ("biometric", 0.9, "empreinte|empreintes digitale|digitales|vocale|vocales|biometrique*|faciale|palmaire", None),
    ("biometric", 0.85, "fingerprint*", None),
    (None, 0, "key|browser|device|digital|certificate|ssh|pgp|gpg|file|tls|server fingerprint*", None),
    (None, 0, "fingerprint* sensor*|reader*|scanner*|of", None),
    ("biometric", 0.9, "reconnaissance faciale|biometrique", None),
    ("biometric", 0.9, "facial|face recognition|scan|scans|template*|geometry", None),
    ("biometric", 0.9, "voiceprint*|faceprint*", None),
    ("biometric", 0.9, "voice|face print*", None),
    ("biometric", 0.9, "iris|retina|retinal scan*", None),
    ("biometric", 0.9, "scan|scanner de|du l? iris|retine", None),
    ("biometric", 0.85, "gabarit* biometrique*", None),
    ("biometric", 0.85, "gabarit* de reconnaissance", None),
    # ---- sex life or sexual orientation ----
    ("sex_life", 0.9, "homosexu*|heterosexu*|bisexu*|lesbien*|lesbian*|transgen*|transsexu*|queer", None),
    ("sex_life", 0.85, "gay|gays|pansexu*|asexu*|polyamor*|echangiste*|libertin|libertine|swinger*", None),
    ("sex_life", 0.9, "orientation sexuelle", None),
    ("sex_life", 0.9, "sexual orientation|life|preference*", None),
    ("sex_life", 0.9, "vie|pratiques|preferences sexuelle|sexuelles", None),
    ("sex_life", 0.9, "sex life", None),
    ("sex_life", 0.85, "sexualite|sexuality", None),
    ("sex_life", 0.85, "coming out", None),
    ("sex_life", 0.85, "came|come|comes out as|to", None),
    ("sex_life", 0.85, "lgbt*", None),
    ("sex_life", 0.8, "his husband|boyfriend", None),
    ("sex_life", 0.8, "her wife|girlfriend", None),
    (None, 0, "gay lussac", None),
    # ---- criminal offences and convictions (art. 10) ----
    ("criminal", 0.95, "casier* judiciaire*", None),
    ("criminal", 0.95, "criminal record*|conviction*|past|history", None),
    ("criminal", 0.95, "antecedent* judiciaire*|penaux", None),
    ("criminal", 0.9, "condamne|condamnee|condamnes|condamnees pour", None),
    ("criminal", 0.9, "condamne|condamnee|condamnes|condamnees a _? _? prison|peine|mois|ans|amende|travaux", None),
    ("criminal", 0.9, "convicted|felon|felons|felony|felonies|misdemeano*|incarcer*|inmate*|jailed|imprisoned", None),
    (
        "criminal",
        0.85,
        "conviction|convictions",
        "criminal|robbery|fraud|theft|drink|drunk|assault|previous|prior|spent|drug*|burglary",
    ),
    ("criminal", 0.9, "sentenced to _? _? year*|month*|prison|jail|community", None),
    ("criminal", 0.9, "suspended|prison|jail|custodial sentence*", None),
    ("criminal", 0.9, "en|de sortie? prison", None),
    ("criminal", 0.9, "in|from|of|to|out prison|jail", None),
    ("criminal", 0.9, "ancien|ancienne|ex detenu*", None),
    ("criminal", 0.9, "former|ex inmate*|convict*|con|offender*|prisoner*", None),
    ("criminal", 0.9, "garde a vue", None),
    ("criminal", 0.9, "mis|mise en examen", None),
    ("criminal", 0.9, "bracelet electronique", None),
    ("criminal", 0.9, "electronic tag|tagged|monitoring", None),
    ("criminal", 0.85, "sursis|delinquan*|recidiv*|reincarcer*", None),
    ("criminal", 0.85, "abus de biens sociaux", None),
    ("criminal", 0.85, "etat d ivresse", None),
    ("criminal", 0.9, "drink|drunk driving|driver", None),
    ("criminal", 0.85, "dui|dwi", None),
    ("criminal", 0.85, "arrested|arrete|arretee pour|for", None),
    ("criminal", 0.85, "arrested", None),
    ("criminal", 0.8, "escroquerie*|trafic de stupefiants|drogue", None),
    ("criminal", 0.85, "charged with", None),
    ("criminal", 0.8, "police custody|record", None),
]


def _compile_element(spec):
    optional = spec.endswith("?") and len(spec) > 1
    if optional:
        spec = spec[:-1]
    if spec == "_":
        return (frozenset(), (), True, optional)
    exact, prefixes = set(), []
    for alt in spec.split("|"):
        if alt.startswith("@"):
            for word in CLASSES[alt[1:]].split():
                (prefixes.append(word[:-1]) if word.endswith("*") else exact.add(word))
        elif alt.endswith("*"):
            prefixes.append(alt[:-1])
        else:
            exact.add(alt)
    return (frozenset(exact), tuple(prefixes), False, optional)


def _element_matches(element, word):
    exact, prefixes, anyword, _optional = element
    return anyword or word in exact or (prefixes and word.startswith(prefixes))


class _Rule:
    __slots__ = ("category", "confidence", "context", "elements")

    def __init__(self, category, confidence, pattern, context):
        self.category = category
        self.confidence = confidence
        self.elements = [_compile_element(e) for e in pattern.split()]
        self.context = _compile_element(context) if context else None

    def match(self, words, i, size):
        """End index (exclusive) of the longest match starting at word ``i``, or -1."""
        return self._match(words, i, 0, size)

    def _match(self, words, i, k, size):
        if k == len(self.elements):
            return i
        element = self.elements[k]
        if i < size and _element_matches(element, words[i]):
            end = self._match(words, i + 1, k + 1, size)
            if end >= 0:
                return end
        if element[3]:
            return self._match(words, i, k + 1, size)
        return -1


def _build_index(rules):
    exact, prefix = {}, {}
    for rule in rules:
        first = rule.elements[0]
        for word in first[0]:
            exact.setdefault(word, []).append(rule)
        for pre in first[1]:
            prefix.setdefault(pre, []).append(rule)
    return exact, prefix, sorted({len(p) for p in prefix})


_RULES = [_Rule(*r) for r in RULES]
_INDEX_EXACT, _INDEX_PREFIX, _PREFIX_LENGTHS = _build_index(_RULES)
_WORD_RE = re.compile(r"[a-z0-9]+")
#: words never read as sensitive whatever the rules say (adverbs of the stems)
STOP_WORDS = frozenset(
    {
        "religieusement",
        "religiously",
        "syndic",
        "syndication",
        "syndicate",
        "syndicated",
        "syndicale-et-patronale",
        "depressions",
        "allergen",
    }
)
CONTEXT_WINDOW = 4


def _trie_regex(exact, prefixes):
    """One regular expression matching, at a word start, any of the ``exact``
    words or any word starting with one of ``prefixes`` (a trie, so that the
    regex engine reads each character once instead of trying every word)."""
    trie = {}
    for word, kind in [(w, "exact") for w in exact] + [(p, "prefix") for p in prefixes]:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[kind] = True

    def build(node):
        alternatives = []
        for char in sorted(k for k in node if len(k) == 1):
            alternatives.append(re.escape(char) + build(node[char]))
        if node.get("prefix"):
            return ""  # any continuation
        if node.get("exact"):
            alternatives.append("(?![a-z0-9])")
        if len(alternatives) == 1:
            return alternatives[0]
        return "(?:" + "|".join(alternatives) + ")"

    return re.compile("(?<![a-z0-9])" + build(trie))


#: words too common to look for: a rule starting with them is found through a later, rarer word
COMMON_WORDS = frozenset(
    CLASSES["be"].split()
    + CLASSES["person"].split()
    + "a au aux d de des du en l la le les un une sa son ses sur pour par chez "
    "the of in to from out his her their a an for with on at as has had have".split()
)


def _anchor_words(rules):
    """The words whose presence the text is first searched for: per rule, its
    first element made of uncommon words only (every element may be optional)."""
    exact, prefixes = set(), set()
    for rule in rules:
        chosen = rule.elements[0]
        for element in rule.elements:
            if not element[2] and not element[3] and not (element[0] & COMMON_WORDS):
                chosen = element
                break
        exact |= chosen[0]
        prefixes |= set(chosen[1])
    return exact, prefixes


_TRIGGER_RE = _trie_regex(*_anchor_words(_RULES))
#: characters read around a trigger word (rules are a few words long, contexts 4 words)
REGION_MARGIN = 120


def _word_findings(folded):
    """Findings of the word rules: only the regions around a word that can
    start a rule are cut into words (most texts have none)."""
    regions = []
    for match in _TRIGGER_RE.finditer(folded):
        start = max(0, match.start() - REGION_MARGIN)
        end = match.start() + REGION_MARGIN
        if regions and start <= regions[-1][1]:
            regions[-1][1] = end
        else:
            regions.append([start, end])
    for start, end in regions:
        # snap to word boundaries so that no word is cut
        while start > 0 and folded[start - 1].isalnum():
            start -= 1
        end = min(len(folded), end)
        while end < len(folded) and folded[end].isalnum():
            end += 1
        yield from _region_findings(folded, start, end)


def _region_findings(folded, region_start, region_end):
    spans, words = [], []
    for match in _WORD_RE.finditer(folded, region_start, region_end):
        words.append(match.group(0))
        spans.append(match.span())
    size = len(words)
    hits, blocked_words = [], set()
    index_exact, index_prefix, lengths = _INDEX_EXACT, _INDEX_PREFIX, _PREFIX_LENGTHS
    for i, word in enumerate(words):
        candidates = index_exact.get(word, ())
        for length in lengths:
            if length > len(word):
                break
            found = index_prefix.get(word[:length])
            if found:
                candidates = [*candidates, *found]
        for rule in candidates:
            end = rule.match(words, i, size)
            if end < 0:
                continue
            if rule.category is None:
                blocked_words.update(range(i, end))
                continue
            if rule.context is not None:
                low, high = max(0, i - CONTEXT_WINDOW), min(size, end + CONTEXT_WINDOW)
                if not any(_element_matches(rule.context, words[j]) for j in range(low, high) if not i <= j < end):
                    continue
            hits.append((rule, i, end))
    for rule, start, end in hits:
        if any(j in blocked_words or words[j] in STOP_WORDS for j in range(start, end)):
            continue
        yield rule.category, rule.confidence, spans[start][0], spans[end - 1][1]


# ---------------------------------------------------------------------------
# API
# ---------------------------------------------------------------------------
def detect(value, min_confidence=DEFAULT_MIN_CONFIDENCE, categories=None):
    """Return the findings of ``value`` (str, bytes or HTML), sorted by position.

    :param min_confidence: leave out findings under this confidence
    :param categories: only these categories (all when None)
    :return: list of :class:`Finding` ``(category, confidence, start, end, text)``,
        ``start``/``end`` being offsets in ``value`` as a ``str`` (see :func:`to_text`),
        ``text`` the characters found there. Overlapping findings of one category
        are merged (highest confidence kept).
    """
    raw = to_text(value)
    if len(raw) > MAX_CHARS:
        raw = raw[:MAX_CHARS]
    if not raw or raw.isspace():
        return []
    doc = _Text(raw)
    folded = _fold(doc.clean)
    found = {}
    for category, confidence, start, end in (*_identifiers(folded), *_word_findings(folded)):
        if confidence < min_confidence or (categories is not None and category not in categories):
            continue
        found.setdefault(category, []).append((start, end, confidence))
    results = []
    for category, items in found.items():
        items.sort()
        merged = []
        for start, end, conf in items:
            if merged and start < merged[-1][1]:
                last = merged[-1]
                merged[-1] = (last[0], max(last[1], end), max(last[2], conf))
            else:
                merged.append((start, end, conf))
        for start, end, conf in merged:
            ostart, oend = doc.to_orig(start, end)
            results.append(Finding(category, conf, ostart, oend, raw[ostart:oend]))
    results.sort(key=lambda f: (f.start, f.end, f.category))
    return results


def fingerprint(category, matched_text):
    """A stable key of what was found (category and folded words), so that a
    dismissed finding is not raised again for the same text."""
    words = " ".join(_WORD_RE.findall(_fold(_Text(to_text(matched_text)).clean)))
    return hashlib.sha256(f"{category}\x00{words}".encode()).hexdigest()[:32]


def excerpt(value, finding, width=40, mask="***"):
    """The readable text around ``finding`` with the found words masked, on
    one line, at most ``width`` characters either side."""
    raw = to_text(value)
    before = _Text(raw[: finding.start]).clean[-width:]
    after = _Text(raw[finding.end :]).clean[:width]
    text = f"{before}{mask}{after}"
    text = " ".join(text.split())
    # the neighbourhood may hold other sensitive words: mask them too
    for other in sorted(detect(text), key=lambda f: f.start, reverse=True):
        text = text[: other.start] + mask + text[other.end :]
    prefix = "…" if len(raw[: finding.start].strip()) > width else ""
    suffix = "…" if len(raw[finding.end :].strip()) > width else ""
    return f"{prefix}{text}{suffix}"


def redact(value, spans, replacement="[…]"):
    """Return ``value`` with each ``(start, end)`` span replaced by ``replacement``."""
    raw = to_text(value)
    for start, end in sorted(set(spans), reverse=True):
        raw = raw[:start] + replacement + raw[end:]
    return raw
