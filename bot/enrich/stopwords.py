"""Word data the enrichment steps share: stopwords, generic words, names, news frequencies."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType


def word_set(text: str) -> frozenset[str]:
    """The whitespace-separated words of a word-list literal."""
    return frozenset(text.split())


STOPWORDS: frozenset[str] = word_set(
    """
    a about above after again against ago all almost also although always am among an and
    another any anyone anything are aren't around as at be became because become been before
    being below between both but by can can't cannot could couldn't did didn't do does doesn't
    doing don't done down during each either else enough even ever every few for from further
    get gets getting give given go goes going got had hadn't has hasn't have haven't having he
    her here hers herself him himself his how however i if in into is isn't it it's its itself
    just least less let like made make makes many may me might more most much must my myself
    near neither never new no nor not now of off often on once one only onto or other others
    our ours ourselves out over own per put rather same see seen several shall she should
    shouldn't since so some still such than that that's the their theirs them themselves then
    there there's these they this those though through thus to too toward towards under until
    up upon us very via was wasn't we were weren't what what's when where whether which while
    who whom whose why will with within without won't would wouldn't yet you your yours
    yourself yourselves
    says said say saying told tells tell according asked amid across back still well way ways
    want wants wanted take takes took come comes came first last next two three four five six
    seven eight nine ten dozen dozens hundreds thousands millions million billion percent
    week weeks day days year years month months today yesterday tomorrow time times early late
    """
)
"""Function words and reporting verbs that say nothing about what a story is about."""

GENERIC_TAGS: frozenset[str] = word_set(
    """
    news uncategorized uncategorised blog blogs post posts article articles breaking latest
    update updates live video videos watch photo photos gallery podcast opinion analysis
    feature features top home general misc other world story stories report reports headline
    headlines rss feed today more editorial international national local worldnews
    topstories
    """
)
"""Category and keyword keys too broad to be worth a tag."""

CALENDAR: frozenset[str] = word_set(
    """
    monday tuesday wednesday thursday friday saturday sunday mon tue tues wed thu thur thurs
    fri sat sun january february march april may june july august september october november
    december jan feb mar apr jun jul aug sep sept oct nov dec
    """
)
"""Names of days and months (and their abbreviations): never a tag, never a story term."""

HONORIFICS: frozenset[str] = word_set(
    """
    mr mrs ms miss dr prof sir dame lord lady president vice prime minister secretary foreign
    chancellor king queen prince princess pope sheikh judge justice chief leader general gen
    senator sen representative rep governor gov mayor ceo chairman chairwoman commissioner
    ambassador envoy spokesperson spokesman spokeswoman premier former late interim acting
    defence defense interior finance state deputy opposition supreme
    """
)
"""Words that precede a name ("President Donald Trump") and are dropped from its tag."""


def _frequencies(table: str) -> Mapping[str, int]:
    """Parse "count: term term ..." lines into a read-only term -> count mapping."""
    counts: dict[str, int] = {}
    for line in table.strip().splitlines():
        count, _, terms = line.partition(":")
        counts.update(dict.fromkeys(terms.split(), int(count)))
    return MappingProxyType(counts)


# Document frequencies of stemmed terms (see bot.enrich.cluster) in a background sample of
# world-news feed items (BBC, NYT, Al Jazeera, NPR, WSJ, ABC, Dawn, Japan Today, NDTV,
# allAfrica, The Economist Asia; Nov 2025 - Feb 2026), excluding the items in
# tests/eval/same_story_pairs.json. Terms seen in fewer than 3 documents are left out.
NEWS_DOCUMENTS = 466
_NEWS_DF_TEXT = """
    102: india
    62: country
    50: china trump
    47: president
    43: us
    38: japan
    37: minister
    35: government
    34: stat war
    33: south
    32: prim
    30: asia
    29: leader world
    28: pakistan
    23: donald peopl
    22: korea
    21: help
    19: foreign right
    18: australia election end military
    17: call europ security talk
    16: east forc modi
    15: chang global group israel meet political region risk trad
    14: attack deal narendra official report russia support
    13: 2026 action arm asian gaza includ law remain second unit
    12: add africa big economic need nuclear plan power taiwan un warn
    11: bangladesh face hous indonesia part politic show sign tariff women
    10: border civil defenc fear grow influenc issu middl north number reform social statement
    10: target thailand turn x
    9: ai authority city continu dawn decad economist enter fight follow iran long media move
    9: myanmar national offic oil opposition palestin party past publish push relation relea sana
    9: set takaichi tension term test top
    8: 000 2025 ahead aim already build capital challeng chief clo committ consider decision despit
    8: economy held international island keep lead look post reject sea strategic system uk visit
    8: work
    7: 17th age air ally army bbc begin better claim confirm conflict control crisis demand describ
    7: diplomat disaster express good high hold hope immigration interest italy jet later leav mean
    7: messag old open parliament peac philippin plac polic policy prabowo pressur protest question
    7: rais reflect respon run secretary servic site strik union violenc west whit
    6: accus act address anti becom body central clear climat co community condemn court debat
    6: democracy die disput energy fall femal field final find former game general geneva growth
    6: hit hostag huge infrastructur investment join kenya know known lanka latest lawmaker
    6: leadership led major member ministry muslim nigeria northern play politician prepar public
    6: recently remark return role seek shar spend sri step subianto summit surg surpris taken team
    6: thing threaten train transform trial troop view win won
    5: 15 activist administration advanc african agreement alleg allianc anniversary announc arab
    5: arabia area arrest attempt bank bas behind biggest boost bring captur caus ceremony concern
    5: conferenc cooperation council counter crackdown cross daily dead death deep defend
    5: democratic deport development effort executiv export fighter fix focus found fourth franc
    5: front futur gain germany giant gold great halt head historic home industry information
    5: investigation involv islamic kill largest legal mark meanwhil men munich negotiation
    5: neighbour network olympic order period powerful protect pull qatar real requir reveal rise
    5: road round rule saudi singapor son special speech stag storm strengthen struggl suspect tak
    5: tech threat travel ukrain victory weapon worst wrot
    4: 12 abroad agency aid aircraft al allafrica approach arriv battl benefit beyond bill blam
    4: bondi break broader budget cambodia campaign case clash coalition commission conservativ
    4: cost creat crim criminal critic cultur cut dangerous deadly deploy detail devastat died
    4: difficult digital diplomatic discussion dollar draw dron earlier earthquak electoral emirat
    4: entrench eu event experienc explain fac fan far fast firm flood fm fresh fund gas gave gun
    4: hama hand hard heat host human ice idea identity impo intelligenc interview junta kingdom
    4: labour larg learn left life line live longer love mak malaysia man mandat maritim market
    4: memoir mention met missil modern nairobi nation nearly newsletter offer officer onlin
    4: organisation pacific particularly partner path pledg pm point potential propo prosecutor
    4: protection race ramp rare reach rebel record refug remarkabl rever revolution ris room
    4: scandal secret sector send serv side soldier speak spread stand start success supply syria
    4: territory third troubl try uae uncertainty use vietnam voter washington welcom winn winter
    4: witness worker worsen youth
    3: 10 100 17 18 19 2019 2024 26 50 70 abandon abus accelerat account affirm afghanistan
    3: agricultur airport allow ambassador amendment ancient argu ask attend aukus austria aviation
    3: backlash ban beginn best bid bilateral bomb bond book breach canada car carry ceasefir cent
    3: centr chain chair children chip choic church clean cold colombia com comment commitment
    3: company compar compound condemnation congress contract contribut correspondent cricket
    3: critical criticism cultural currently cyclon data decid dedicat deliver democrat department
    3: depend deportation deputy diaspora different dog domestic doubt dream drill driver drug due
    3: e echo egypt embrac emergency endor era erupt essential estimat evidenc exchang expand
    3: expect eye fail fair fal fallen father fell finally financial fine fire flourish fly food
    3: forum fre free friend frontier fuel full gambl gisèl grant greater green ground guard gulf
    3: harsher higher historical history hub illegal import importanc important incident indo insid
    3: institut institution intend invit ishiba islamist jinp joint judg kashmir land lane launch
    3: lawyer lee lesson letter liberal likely littl local locat london loom loss lot main maintain
    3: maker marco medal memory migrant min mind model moment momentum mount mov natural navy
    3: nightmar notoriously outrag pact parent paris participat partnership pass paus pelicot pha
    3: plenty poll pollution popular populist practic premium present previous previously problem
    3: program programm project promis promot prompt property rape rate reality really recent
    3: recognis reduc regard regim regional reiterat relationship religious reporter represent
    3: representativ resident resolv respect respond rest resum review rout rubio safety sanction
    3: scam seem sell senat separat sery sheikh shock signal significant silicon someth sought
    3: sourc southern spokesman sport star status strait street stress student study suggest suk
    3: surround survivor tactic tax tehran thai tie tobacco tool track trigger trust unlikely urg
    3: valu victim voic watch widely wing winger wonder won’t wor xi yeol yoon young zone
"""
NEWS_DF: Mapping[str, int] = _frequencies(_NEWS_DF_TEXT)
"""How many of the NEWS_DOCUMENTS sample items contain each (stemmed) term."""
