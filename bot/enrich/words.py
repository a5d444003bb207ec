"""The one tokenizer of story text, and how a word or name is folded to a comparable key."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Dotted acronyms ("U.S."), words with inner apostrophes or hyphens, and single marks.
TOKEN = re.compile(r"(?:[^\W\d_]\.){2,}|[^\W_]+(?:['’-][^\W_]+)*|[^\w\s]")
_POSSESSIVE = ("'s", "’s", "'", "’")
_LETTER = re.compile(r"[^\W\d_]")

# Adjectives and short forms of places, folded to one key so that "Japanese" meets "Japan".
DEMONYMS = {
    "afghan": "afghanistan", "america": "us", "american": "us", "americans": "us",
    "australian": "australia", "austrian": "austria", "bangladeshi": "bangladesh",
    "belgian": "belgium", "brazilian": "brazil", "britain": "uk", "british": "uk",
    "canadian": "canada", "chilean": "chile", "chinese": "china", "colombian": "colombia",
    "cuban": "cuba", "czech": "czechia", "danish": "denmark", "dutch": "netherlands",
    "egyptian": "egypt", "emirati": "uae", "english": "england", "ethiopian": "ethiopia",
    "european": "europe", "filipino": "philippines", "finnish": "finland",
    "french": "france", "german": "germany", "ghanaian": "ghana", "greek": "greece",
    "hungarian": "hungary", "indian": "india", "indonesian": "indonesia",
    "iranian": "iran", "iraqi": "iraq", "irish": "ireland", "israeli": "israel",
    "italian": "italy", "japanese": "japan", "jordanian": "jordan", "kenyan": "kenya",
    "korean": "korea", "lebanese": "lebanon", "libyan": "libya", "malaysian": "malaysia",
    "mexican": "mexico", "moroccan": "morocco", "nigerian": "nigeria",
    "norwegian": "norway", "pakistani": "pakistan", "palestinian": "palestine",
    "peruvian": "peru", "philippine": "philippines", "polish": "poland",
    "portuguese": "portugal", "qatari": "qatar", "romanian": "romania", "russian": "russia",
    "saudi": "saudi", "scottish": "scotland", "serbian": "serbia", "somali": "somalia",
    "spanish": "spain", "sudanese": "sudan", "swedish": "sweden", "swiss": "switzerland",
    "syrian": "syria", "taiwanese": "taiwan", "tanzanian": "tanzania", "thai": "thailand",
    "turkish": "turkey", "turkiye": "turkey", "ugandan": "uganda", "ukrainian": "ukraine",
    "venezuelan": "venezuela", "vietnamese": "vietnam", "welsh": "wales",
    "yemeni": "yemen", "zimbabwean": "zimbabwe", "usa": "us",
}  # fmt: skip
# Names of several words that have one usual short form.
PHRASES = {
    "united states": "us", "united states of america": "us", "united kingdom": "uk",
    "great britain": "uk", "european union": "eu", "united nations": "un",
    "united arab emirates": "uae", "south korea": "korea", "north korea": "northkorea",
}  # fmt: skip


def tokens(text: str) -> list[str]:
    """Words, dotted acronyms and punctuation marks of `text`, in order."""
    return TOKEN.findall(text)


def is_word(token: str) -> bool:
    """A token that holds a letter (not a number or a mark)."""
    return token[:1].isalpha() or _LETTER.search(token) is not None


def is_acronym(token: str) -> bool:
    """ "US", "U.S.", "NATO": two to six capital letters, perhaps dotted."""
    letters = token.replace(".", "")
    return 2 <= len(letters) <= 6 and letters.isalpha() and letters.isupper()


def is_capitalized(token: str) -> bool:
    """A word that starts with a capital letter (acronyms included)."""
    return token[:1].isupper()


def bare(token: str) -> str:
    """The token without a possessive ending or acronym dots: "Japan's" -> "Japan"."""
    if "'" not in token and "’" not in token and "." not in token:
        return token  # most words: three substring checks beat a regex call
    for ending in _POSSESSIVE:
        if token.endswith(ending) and len(token) > len(ending):  # "Kerstin G's" -> "G"
            token = token[: -len(ending)]
            break
    return token.replace(".", "") if is_acronym(token) else token


@lru_cache(maxsize=1 << 16)  # names recur across a feed's stories: most calls are repeats
def fold(word: str) -> str:
    """The comparable key of one word of a name: lowercase, bare, places by their country."""
    key = unaccented(bare(word).casefold().replace("’", "'"))
    return DEMONYMS.get(key, key)


def unaccented(word: str) -> str:
    """Latin letters without their accents, as outlets often drop them: "Jerí" -> "Jeri"
    (other scripts keep their marks)."""
    if word.isascii():
        return word
    plain: list[str] = []
    for char in unicodedata.normalize("NFKD", word):
        if not (unicodedata.combining(char) and plain and plain[-1].isascii()):
            plain.append(char)
    return unicodedata.normalize("NFC", "".join(plain))


def fold_phrase(words: list[str]) -> list[str]:
    """Keys of a name's words; a known phrase ("United States") becomes its one key."""
    phrase = " ".join(unaccented(bare(w).casefold()) for w in words)
    if phrase in PHRASES:
        return [PHRASES[phrase]]
    return [fold(w) for w in words]
