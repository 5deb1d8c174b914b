"""Checks on LLM wording: the text may only restate the recommendation, in prose, once.

An LLM answer is ``{"explanations": [{"index": i, "reasoning": "..."}, ...]}`` with exactly
one item per recommendation. Each reasoning is accepted only if every rule below holds; the
first rule broken is the rejection ``reason`` (counted in health, kept in the audit log).

==================  ===========================================================================
reason              rule (all simple, documented, no second model)
==================  ===========================================================================
``truncated``       the server cut the answer at ``max_tokens`` (``finish_reason=length``;
                    checked by the caller, `workbench.strategy.ai_strategist.AIStrategist`)
``invalid_json``    the answer is not a JSON object with an ``explanations`` list
``schema``          an item is not ``{index: int, reasoning: str}``, an index is out of range or
                    repeated
``missing``         not every recommendation has an explanation
``length``          fewer than `MIN_CHARS` or more than `MAX_CHARS` characters
``not_prose``       not one or two finished English sentences: it must start with a capital
                    letter and end with ``.`` or ``!``; only letters, digits, spaces and
                    ``. , ; : ' % ( ) - / !`` may appear; at least `MIN_WORDS` words, at least
                    75 % of the non-space characters letters, no word over 20 letters, no
                    capitalised word of 4+ letters other than a compound name; at most
                    `MAX_SENTENCES` sentences
``repetitive``      the same word twice in a row, a three-word sequence twice, a word of 4+
                    letters three times, or fewer than half the words distinct (6+ words)
``number_mismatch`` a number in any form -- digits (``12``, ``3.2``, ``71%``), ``L12``,
                    ``P3``, ordinals (``3rd``, ``third``) and number words (``ten``,
                    ``twenty-five``) -- that is not one of the recommendation's numbers (to
                    its written precision); a lap (``lap 12``, ``L12``, ``12th lap``) must
                    be one of its laps, a position (``P3``, ``position 3``, ``3rd place``)
                    one of its positions, a percentage one of its probabilities
``compound_mismatch`` a tyre compound named (written in capitals, or ``soft``/``medium``/...
                    next to tyre/compound/set or after on/for/to/onto/fresh/new/the) that
                    is not in the recommendation's plan
``driver_mismatch`` a three-capital-letter code (a driver code) other than our driver's and
                    the abbreviations `ABBREVIATIONS`
``contradiction``   a phrase of the opposite action (``stay out`` for a stop, ``box now`` or
                    ``no stop`` for a planned later stop, opening with pit/box for a plan
                    without stops), a stop word followed within four words by a lap that is
                    not one of the plan's coming stops, or a phrase that questions the decision
                    (``not allowed``, ``bad idea``, ...)
``no_action``       the text does not name the action: a stop needs a stop word (pit, box,
                    stop...), staying out needs a stay word (stay, extend, wait, ...) or the
                    planned stop lap next to a stop word; an alternative may instead be
                    called a fallback (alternative, backup, option...)
==================  ===========================================================================

The checks are strict on purpose: a rejected wording leaves the built-in reasoning on the
card, an accepted one that is wrong puts nonsense there.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections import Counter
from typing import Any

__all__ = ["ExplanationRejected", "Facts", "facts_of", "check_explanations", "check_reasoning", "find_numbers",
           "NumberMention", "MIN_CHARS", "MAX_CHARS", "MIN_WORDS", "MAX_SENTENCES", "ABBREVIATIONS", "REASONS"]

MIN_CHARS = 20
MAX_CHARS = 200
MIN_WORDS = 5
MAX_SENTENCES = 2
REASONS = ("truncated", "invalid_json", "schema", "missing", "length", "not_prose", "repetitive", "number_mismatch",
           "compound_mismatch", "driver_mismatch", "contradiction", "no_action")
ABBREVIATIONS = frozenset({"DRS", "VSC", "ERS", "DNF", "FIA", "MGU", "LAP"})
COMPOUNDS = {"soft": "SOFT", "softs": "SOFT", "medium": "MEDIUM", "mediums": "MEDIUM", "hard": "HARD",
             "hards": "HARD", "inter": "INTERMEDIATE", "inters": "INTERMEDIATE", "intermediate": "INTERMEDIATE",
             "intermediates": "INTERMEDIATE", "wet": "WET", "wets": "WET"}
_COMPOUND_LETTER = {"S": "SOFT", "M": "MEDIUM", "H": "HARD", "I": "INTERMEDIATE", "W": "WET"}
_TYRE_NEXT = {"tyre", "tyres", "tire", "tires", "compound", "compounds", "set", "sets", "rubber"}
_TYRE_BEFORE = {"on", "for", "to", "onto", "fresh", "new", "the"}

_ONES = {"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
         "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
         "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19}
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
         "ninety": 90}
_ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8,
             "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13, "fourteenth": 14,
             "fifteenth": 15, "sixteenth": 16, "seventeenth": 17, "eighteenth": 18, "nineteenth": 19,
             "twentieth": 20, "thirtieth": 30, "fortieth": 40, "fiftieth": 50, "sixtieth": 60, "seventieth": 70}
_NOT_A_NUMBER_BEFORE_ONE = {"this", "that", "the", "no", "any", "every", "each", "which", "a"}

_PIT_WORDS = {"pit", "pits", "pitting", "pitted", "box", "boxing", "stop", "stops", "stopping", "pitstop"}
_STAY_WORDS = {"stay", "stays", "staying", "extend", "extending", "extends", "wait", "waiting", "hold", "holding",
               "later", "delay", "delaying", "keep", "keeping", "continue", "continuing", "remain", "remaining",
               "flag", "finish"}
_FALLBACK_WORDS = {"fallback", "alternative", "backup", "option", "instead", "plan"}
_NEGATORS = {"no", "not", "don't", "dont", "never", "without", "avoid", "avoiding", "skip", "skipping", "zero",
             "nothing"}
_QUESTIONING = ("not allowed", "not recommended", "not advised", "not advisable", "not a good", "bad idea",
                "bad choice", "mistake", "wrong", "illegal", "not possible", "impossible", "unsafe", "should not",
                "shouldn't", "not the right")
_CONTRADICTIONS = {
    "pit": ("stay out", "staying out", "stays out", "do not pit", "don't pit", "dont pit", "no stop", "not pit",
            "not box", "don't box", "avoid pitting", "extend the stint", "to the flag", "without stopping"),
    "stay_out": ("box now", "pit now", "pit this lap", "box this lap", "pit next lap", "box next lap", "stop now",
                 "stopping now", "pit immediately", "box immediately", "stop immediately", "pitting now",
                 "boxing now"),
}
_NO_STOP_PLANNED = ("no stop", "to the flag", "to the end", "without stopping", "non-stop")
_ALLOWED_CHARS = re.compile(r"[A-Za-z0-9 .,;:'%()\-/!]+")
_TOKEN = re.compile(r"\d+(?:\.\d+)?|[A-Za-z]+(?:'[a-z]+)?|%")
_SENTENCE_END = re.compile(r"[.!;](?!\d)(?:\s|$)")
_LABEL_LAPS = re.compile(r"\bL(\d+)\b")
_LABEL_TYRES = re.compile(r"\b([SMHIW](?:-[SMHIW])+)\b")


class ExplanationRejected(ValueError):
    """An LLM answer failed a check; ``reason`` is one of `REASONS`."""

    def __init__(self, reason: str, message: str):
        self.reason = reason
        super().__init__(f"{reason}: {message}")


@dataclasses.dataclass(frozen=True)
class Facts:
    """What one recommendation lets its wording say.

    Attributes
    ----------
    action : str
        ``pit`` or ``stay_out``.
    stop_lap : int or None
        The plan's next stop; None for no stop ahead.
    stop_laps : frozenset of float
        The plan's stops from the next one on: the only laps a stop may be named on.
    numbers, laps, positions, percents : frozenset of float
        Every number of the recommendation; its laps; its positions; its probabilities x 100.
    compounds : frozenset of str
        Compounds of its plan (upper case).
    driver : str or None
        Our driver's code.
    alternative : bool
        A fallback plan ("Alternative: ..."), worded as such.
    """

    action: str
    stop_lap: int | None
    stop_laps: frozenset[float]
    numbers: frozenset[float]
    laps: frozenset[float]
    positions: frozenset[float]
    percents: frozenset[float]
    compounds: frozenset[str]
    driver: str | None = None
    alternative: bool = False


def _walk_numbers(value: Any, out: set[float]) -> None:
    if isinstance(value, bool) or value is None:
        return
    if isinstance(value, (int, float)):
        out.add(abs(float(value)))
    elif isinstance(value, str):
        out.update(float(x) for x in re.findall(r"\d+(?:\.\d+)?", value))
    elif isinstance(value, dict):
        for v in value.values():
            _walk_numbers(v, out)
    elif isinstance(value, (list, tuple)):
        for v in value:
            _walk_numbers(v, out)


def facts_of(rec, driver: str | None = None) -> Facts:
    """The `Facts` of a `Recommendation` (and our driver's code)."""
    n = rec.numbers
    numbers: set[float] = set()
    for part in (n, rec.expected_benefit, rec.execution_lap, rec.title):
        _walk_numbers(part, numbers)
    labels = " ".join(str(x) for x in (n.get("strategy"), n.get("alternative"), rec.title) if x)
    laps = {float(x) for x in (n.get("lap"), n.get("next_stop_lap"), rec.execution_lap) if x is not None}
    laps.update(float(x) for x in _LABEL_LAPS.findall(labels))
    laps.update(float(x) for x in re.findall(r"\blap (\d+)", rec.title))
    positions = {float(x) for x in (n.get("position"), n.get("expected_final_position")) if x is not None}
    positions |= {float(round(x)) for x in positions}
    probabilities = [n.get("success_probability"), (rec.expected_benefit or {}).get("probability")]
    percents = {round(100.0 * p, 1) for p in probabilities if isinstance(p, (int, float))}
    compounds = {str(c).upper() for c in n.get("compounds") or ()}
    own = f"{n.get('strategy') or ''} {rec.title}"  # the plan's own compounds, not its alternative's
    compounds.update(w for w in re.findall(r"[A-Z]{4,}", own) if w in COMPOUNDS.values())
    for group in _LABEL_TYRES.findall(own):
        compounds.update(_COMPOUND_LETTER[c] for c in group.split("-"))
    numbers |= laps | positions | percents
    stop_lap = n.get("next_stop_lap", rec.execution_lap)
    stops = {float(x) for x in _LABEL_LAPS.findall(str(n.get("strategy") or rec.title))}
    stop_laps = set() if stop_lap is None else {x for x in stops if x >= stop_lap} | {float(stop_lap)}
    return Facts(action=rec.action, stop_lap=stop_lap, stop_laps=frozenset(stop_laps),
                 numbers=frozenset(numbers), laps=frozenset(laps), positions=frozenset(positions),
                 percents=frozenset(percents), compounds=frozenset(compounds),
                 driver=(driver or "").upper() or None, alternative=rec.title.startswith("Alternative"))


@dataclasses.dataclass(frozen=True)
class NumberMention:
    """A number written in the text: its value, what it names and how it was written."""

    value: float
    kind: str  # "lap" | "position" | "percent" | "any"
    written: str
    decimals: int
    token_index: int


def _word_number(words: list[str], i: int) -> tuple[float, int, bool] | None:
    """(value, tokens used, ordinal) of the number words starting at ``words[i]``."""
    w = words[i]
    if w in _TENS:
        if i + 1 < len(words) and words[i + 1] in _ONES and 0 < _ONES[words[i + 1]] < 10:
            return _TENS[w] + _ONES[words[i + 1]], 2, False
        if i + 1 < len(words) and words[i + 1] in _ORDINALS and _ORDINALS[words[i + 1]] < 10:
            return _TENS[w] + _ORDINALS[words[i + 1]], 2, True
        return _TENS[w], 1, False
    if w in _ONES:
        if w == "one" and ((i > 0 and words[i - 1] in _NOT_A_NUMBER_BEFORE_ONE)
                           or (i + 1 < len(words) and words[i + 1] == "of")):
            return None  # "this one", "one of": a pronoun, not a number
        return _ONES[w], 1, False
    if w in _ORDINALS:
        if w == "second" and not (i + 1 < len(words) and words[i + 1] in ("place", "position", "row")):
            return None  # "a second" is a time, "second" alone is ambiguous
        return _ORDINALS[w], 1, True
    if w in ("hundred", "dozen"):
        return (100 if w == "hundred" else 12), 1, False
    return None


def find_numbers(text: str) -> list[NumberMention]:
    """Every number in ``text`` in any written form, with what it names (lap, position, percent, any)."""
    matches = list(_TOKEN.finditer(text))
    words = [m.group().lower() for m in matches]
    out: list[NumberMention] = []
    i = 0
    while i < len(matches):
        m, w = matches[i], words[i]
        value: float | None = None
        used, ordinal, decimals, kind = 1, False, 0, "any"
        if w[0].isdigit():
            value = float(w)
            decimals = len(w.split(".")[1]) if "." in w else 0
            prev = matches[i - 1] if i else None
            glued = prev is not None and prev.end() == m.start()
            if glued and words[i - 1] == "l":
                kind = "lap"
            elif glued and words[i - 1] == "p":
                kind = "position"
            nxt = matches[i + 1] if i + 1 < len(matches) else None
            if nxt is not None and nxt.start() == m.end() and words[i + 1] in ("st", "nd", "rd", "th"):
                ordinal, used = True, 2
        elif (word := _word_number(words, i)) is not None:
            value, used, ordinal = word
        if value is None:
            i += 1
            continue
        last = matches[i + used - 1]
        joined_before = i > 0 and text[matches[i - 1].end():m.start()].strip(" -") == ""
        joined_after = i + used < len(matches) and text[last.end():matches[i + used].start()].strip(" -") == ""
        before = words[i - 1] if joined_before else ""  # a word across punctuation does not qualify
        after = words[i + used] if joined_after else ""
        if kind == "any":
            if before in ("lap", "laps") and not ordinal:
                kind = "lap"
            elif before in ("position", "p", "place") and not ordinal:
                kind = "position"
            elif after in ("%", "percent", "per"):
                kind = "percent"
            elif ordinal and after == "lap":
                kind = "lap"
            elif ordinal and after in ("place", "position", "row"):
                kind = "position"
            elif ordinal and before in ("finish", "finishing", "finishes", "in", "to", "up", "home"):
                kind = "position"
        if kind == "lap" and before == "laps":
            kind = "any"  # "laps 3" is odd; "3 laps" never has "laps" before it
        start, end = m.start(), matches[i + used - 1].end()
        if kind in ("lap", "position") and w[0].isdigit() and i and matches[i - 1].end() == m.start():
            start = matches[i - 1].start()  # "L12", "P3": keep the prefix in what is quoted
        out.append(NumberMention(value, kind, text[start:end], decimals, i))
        i += used
    return out


def _matches(mention: NumberMention, allowed: frozenset[float]) -> bool:
    for a in allowed:
        if abs(mention.value - a) <= 0.051 or abs(round(a, mention.decimals) - mention.value) < 1e-9:
            return True
    return False


def _number_check(mentions: list[NumberMention], facts: Facts) -> None:
    for m in mentions:
        allowed = {"lap": facts.laps, "position": facts.positions, "percent": facts.percents}.get(m.kind,
                                                                                                 facts.numbers)
        if not _matches(m, allowed):
            what = {"lap": "a lap", "position": "a position", "percent": "a probability"}.get(m.kind, "a number")
            raise ExplanationRejected("number_mismatch", f"{m.written!r} is not {what} of this recommendation")


def _form_check(text: str, words: list[str]) -> None:
    bad = set(_ALLOWED_CHARS.sub("", text))
    if bad:
        raise ExplanationRejected("not_prose", f"characters {''.join(sorted(bad))!r} are not prose")
    if not text[0].isupper():
        raise ExplanationRejected("not_prose", f"does not start with a capital letter: {text[:30]!r}")
    if text[-1] not in ".!":
        raise ExplanationRejected("not_prose", f"does not end a sentence: ...{text[-30:]!r}")
    alpha = [w for w in words if w.isalpha()]
    if len(alpha) < MIN_WORDS:
        raise ExplanationRejected("not_prose", f"{len(alpha)} words (at least {MIN_WORDS})")
    chars = text.replace(" ", "")
    if sum(c.isalpha() for c in chars) < 0.75 * len(chars):
        raise ExplanationRejected("not_prose", "fewer than 75% of the characters are letters")
    long = [w for w in alpha if len(w) > 20]
    if long:
        raise ExplanationRejected("not_prose", f"word {long[0]!r} is over 20 letters")
    shouted = [w for w in re.findall(r"\b[A-Z]{4,}\b", text) if w not in COMPOUNDS.values()]
    if shouted:
        raise ExplanationRejected("not_prose", f"capitalised word {shouted[0]!r}")
    sentences = len(_SENTENCE_END.findall(text))
    if sentences > MAX_SENTENCES:
        raise ExplanationRejected("not_prose", f"{sentences} sentences (at most {MAX_SENTENCES})")


def _repetition_check(words: list[str]) -> None:
    alpha = [w for w in words if w.isalpha()]
    for a, b in zip(alpha, alpha[1:]):
        if a == b:
            raise ExplanationRejected("repetitive", f"{a!r} twice in a row")
    trigrams = Counter(zip(alpha, alpha[1:], alpha[2:]))
    if trigrams and trigrams.most_common(1)[0][1] > 1:
        raise ExplanationRejected("repetitive", f"{' '.join(trigrams.most_common(1)[0][0])!r} repeated")
    common = Counter(w for w in alpha if len(w) >= 4).most_common(1)
    if common and common[0][1] >= 3:
        raise ExplanationRejected("repetitive", f"{common[0][0]!r} {common[0][1]} times")
    if len(alpha) >= 6 and len(set(alpha)) < 0.5 * len(alpha):
        raise ExplanationRejected("repetitive", f"{len(set(alpha))} distinct of {len(alpha)} words")


def _compound_check(text: str, words: list[str], facts: Facts) -> None:
    raw = [m.group() for m in _TOKEN.finditer(text)]
    for i, w in enumerate(words):
        if w not in COMPOUNDS:
            continue
        named = (raw[i].isupper() or (i + 1 < len(words) and words[i + 1] in _TYRE_NEXT)
                 or (i > 0 and words[i - 1] in _TYRE_BEFORE))
        if named and COMPOUNDS[w] not in facts.compounds:
            plan = ", ".join(sorted(facts.compounds)) or "no named compound"
            raise ExplanationRejected("compound_mismatch", f"{raw[i]!r} is not in the plan ({plan})")


def _driver_check(text: str, facts: Facts) -> None:
    for code in re.findall(r"\b[A-Z]{3}\b", text):
        if code not in ABBREVIATIONS and code != facts.driver:
            raise ExplanationRejected("driver_mismatch", f"{code!r} is not our driver ({facts.driver or 'unknown'})")


def _negated(words: list[str], i: int) -> bool:
    return any(w in _NEGATORS for w in words[max(0, i - 3):i])


def _action_check(text: str, words: list[str], mentions: list[NumberMention], facts: Facts) -> None:
    lowered = " ".join(words)
    for phrase in _QUESTIONING:
        if phrase in lowered:
            raise ExplanationRejected("contradiction", f"{phrase!r} questions the decision")
    for phrase in _CONTRADICTIONS.get(facts.action, ()):
        if phrase in lowered:
            raise ExplanationRejected("contradiction", f"says {phrase!r} but the action is {facts.action}")
    pit_at = [i for i, w in enumerate(words) if w in _PIT_WORDS and not _negated(words, i)]
    if facts.stop_lap is None and pit_at and pit_at[0] == 0:
        raise ExplanationRejected("contradiction", f"opens with {words[0]!r} but no stop is planned")
    if facts.stop_lap is not None and any(p in lowered for p in _NO_STOP_PLANNED):
        raise ExplanationRejected("contradiction", f"says there is no stop but one is planned on lap {facts.stop_lap}")
    for i in pit_at:  # a stop named on a lap must be the plan's stop lap
        for m in mentions:
            if m.kind == "lap" and i < m.token_index <= i + 4 and m.value not in facts.stop_laps:
                plan = "has no stop" if facts.stop_lap is None else f"stops on lap {facts.stop_lap}"
                raise ExplanationRejected("contradiction", f"a stop on {m.written!r} but the plan {plan}")
    has_stay = any(w in _STAY_WORDS for w in words) or any(p in lowered for p in _NO_STOP_PLANNED)
    if facts.action == "pit" and not pit_at:
        raise ExplanationRejected("no_action", "a stop is recommended but the text names no stop (pit, box, stop)")
    if facts.action == "stay_out" and not has_stay:
        names_plan = pit_at and any(m.kind == "lap" and m.value == facts.stop_lap for m in mentions)
        as_fallback = facts.alternative and (pit_at or any(w in _FALLBACK_WORDS for w in words))
        if not (names_plan or as_fallback):
            raise ExplanationRejected("no_action", "staying out is recommended but the text says neither stay, "
                                                   "extend, wait... nor the planned stop lap")


def check_reasoning(text: str, facts: Facts) -> str:
    """Check one reasoning against its recommendation's `Facts`; returns the stripped text.

    Raises
    ------
    ExplanationRejected
        With the first rule broken (see the module docstring).
    """
    text = text.strip()
    if not MIN_CHARS <= len(text) <= MAX_CHARS:
        raise ExplanationRejected("length", f"{len(text)} characters ({MIN_CHARS}-{MAX_CHARS})")
    words = [m.group().lower() for m in _TOKEN.finditer(text)]
    _form_check(text, words)
    _repetition_check(words)
    mentions = find_numbers(text)
    _number_check(mentions, facts)
    _compound_check(text, words, facts)
    _driver_check(text, facts)
    _action_check(text, words, mentions, facts)
    return text


def _parse(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        match = re.search(r"\{.*\}", text, re.S)  # prompt-only servers may wrap JSON in prose
        try:
            return json.loads(match.group(0)) if match else None
        except ValueError:
            return None


def check_explanations(text: str, recommendations: list, driver: str | None = None) -> dict[int, str]:
    """Parse and check an LLM answer; return ``{index: reasoning}`` or raise `ExplanationRejected`.

    Parameters
    ----------
    text : str
        The model's answer.
    recommendations : list of Recommendation
        What it explains, in the order of the request's indices.
    driver : str, optional
        Our driver's code (the only driver code the text may name).
    """
    obj = _parse(text)
    if not isinstance(obj, dict) or not isinstance(obj.get("explanations"), list):
        raise ExplanationRejected("invalid_json", "answer is not a JSON object with an 'explanations' list")
    found: dict[int, str] = {}
    for item in obj["explanations"]:
        if not isinstance(item, dict) or isinstance(item.get("index"), bool) \
                or not isinstance(item.get("index"), int) or not isinstance(item.get("reasoning"), str):
            raise ExplanationRejected("schema", f"explanation {str(item)[:80]!r} is not {{index: int, reasoning: str}}")
        i = item["index"]
        if not 0 <= i < len(recommendations):
            raise ExplanationRejected("schema", f"index {i} is not a recommendation index "
                                                f"(0-{len(recommendations) - 1})")
        if i in found:
            raise ExplanationRejected("schema", f"index {i} is explained twice")
        found[i] = item["reasoning"]
    if set(found) != set(range(len(recommendations))):
        raise ExplanationRejected("missing", f"explanations for {sorted(found)} of {len(recommendations)}")
    out = {}
    for i in sorted(found):
        try:
            out[i] = check_reasoning(found[i], facts_of(recommendations[i], driver))
        except ExplanationRejected as exc:
            raise ExplanationRejected(exc.reason, f"explanation {i}: {str(exc).split(': ', 1)[1]}") from None
    return out
