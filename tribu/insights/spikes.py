"""Online detection of volume spikes ("bad buzz") in count series.

Pure Python (standard library only), no Django: the same code runs in the ingestion pipeline,
in `tribu alerts backtest` and in scripts/evaluate_spikes.py.

The model, for one count series sampled at a fixed step (e.g. mentions per 5 minutes):

- Expected count: a seasonal baseline. Each step belongs to a season slot (by default the hour
  of the day). The expectation for a slot is the trimmed mean of the counts seen in that slot
  over the last `history_days` days (the top `trim` fraction dropped, so past spikes do not
  inflate it). Before a slot has history, the trimmed mean of all recent counts is used. A
  trimmed mean rather than a median because small brands have median 0 (three mentions a day)
  yet a non-zero expectation.
- Overdispersion: counts are modelled as negative binomial with mean mu and variance
  mu + alpha * mu**2. alpha is estimated from the same history (method of moments on the
  trimmed values, never below `min_dispersion`), so a large brand whose volume swings a lot
  needs a much larger relative excess than a Poisson test would.
- Evidence: a CUSUM of NB log-likelihood ratios "mean = shift * mu" against "mean = mu",
  reset at zero. One noisy step rarely crosses the threshold; a sustained excess, or one huge
  step, does. The threshold is the sensitivity.
- Floor: an alert also needs at least `min_count` events in the last hour, whatever the
  statistics say (3 mentions against 0.1 expected is not a bad buzz).
- Record: an alert also needs the last hour's volume to beat `record_ratio` (1.25) times a
  typical busy hour of the previous week: the `record_quantile` (99th percentile) of the
  one-hour volumes seen over `record_days` (7). On real mention series, most statistically
  significant bursts are routine (daily news, a product launch); a bad buzz is what stands out
  from the week. A high percentile rather than the single busiest hour, so one earlier incident
  (a peak of an hour or two) does not mask a second one later that week; the 25 % margin keeps
  the routine daily peaks, which the percentile no longer fully covers, from alerting.
- Refractory: after an alert the detector stays silent for `refractory_hours` (24: a bad buzz
  on social media typically runs for a day, and the team already has the open alert) and
  restarts its evidence from zero, so one incident gives one alert.

Decisions use only the current step and earlier ones: `update()` decides, then learns.
"""

import math
from collections import deque
from dataclasses import dataclass

# Sensitivity name -> CUSUM threshold (in nats of accumulated evidence). Lower fires earlier
# and more often. "normal" was chosen on the development data (see scripts/evaluate_spikes.py).
SENSITIVITY_THRESHOLDS = {"low": 100.0, "normal": 50.0, "high": 25.0}
SENSITIVITIES = tuple(SENSITIVITY_THRESHOLDS)


def threshold_for(sensitivity):
    """A sensitivity name ("low", "normal", "high") or a positive number -> CUSUM threshold."""
    if isinstance(sensitivity, str) and sensitivity in SENSITIVITY_THRESHOLDS:
        return SENSITIVITY_THRESHOLDS[sensitivity]
    try:
        value = float(sensitivity)
    except (TypeError, ValueError):
        raise ValueError(sensitivity) from None
    if not value > 0 or math.isinf(value):
        raise ValueError(sensitivity)
    return value


@dataclass(frozen=True)
class SpikeSettings:
    steps_per_hour: int = 12  # 5-minute steps
    season_slots: int = 24  # hour of day
    history_days: int = 7
    trim: float = 0.1  # fraction of the highest values ignored by the baseline
    shift: float = 3.0  # the excess the CUSUM is tuned to detect (x times the expectation)
    min_dispersion: float = 0.05
    min_expected: float = 0.05  # per step: keeps log-ratios finite on silent series
    min_count: int = 10  # events in the last hour needed for an alert
    refractory_hours: float = 24.0
    # An alert needs the last hour's volume to exceed `record_ratio` times the `record_quantile`
    # of the one-hour volumes of the previous `record_days` days (ratio 0 disables; quantile 1.0
    # is the busiest hour): a bad buzz stands out from the week.
    record_ratio: float = 1.25
    record_quantile: float = 0.99
    record_days: int = 7
    warmup_hours: float = 24.0  # no alert before this much history
    threshold: float = SENSITIVITY_THRESHOLDS["normal"]


def _trimmed_stats(values, trim):
    """Mean and variance of values without their top `trim` fraction."""
    ordered = sorted(values)
    keep = len(ordered) - int(len(ordered) * trim)
    kept = ordered[: max(keep, 1)]
    mean = sum(kept) / len(kept)
    variance = sum((v - mean) ** 2 for v in kept) / len(kept)
    return mean, variance


def nb_log_likelihood_ratio(count, expected, dispersion, shift):
    """log P(count | mean shift*expected) - log P(count | mean expected), negative binomial.

    Both hypotheses share the size k = 1/dispersion; the gamma terms cancel.
    """
    k = 1.0 / dispersion
    raised = shift * expected
    return count * math.log(raised * (k + expected) / (expected * (k + raised))) + k * math.log(
        (k + expected) / (k + raised)
    )


class SpikeDetector:
    """Feed counts one step at a time with `update(count, slot)`; it returns True on an alert."""

    def __init__(self, settings=None, **overrides):
        self.settings = settings or SpikeSettings()
        if overrides:
            self.settings = SpikeSettings(**{**self.settings.__dict__, **overrides})
        s = self.settings
        per_slot = s.history_days * s.steps_per_hour * 24 // s.season_slots
        self._slot_history = {}
        self._per_slot = per_slot
        self._recent = deque(maxlen=s.steps_per_hour * s.season_slots)
        self._last_hour = deque(maxlen=s.steps_per_hour)
        self._refractory_steps = round(s.refractory_hours * s.steps_per_hour)
        self._silent_for = 0
        self._evidence = 0.0
        self._step = 0
        self._warmup_steps = round(s.warmup_hours * s.steps_per_hour)
        # One-hour volume at each step of the last record_days days (a sliding window).
        self._hour_volumes = deque(maxlen=s.record_days * 24 * s.steps_per_hour)

    def expectation(self, slot):
        """(expected count per step, NB dispersion) for a slot, from history only."""
        s = self.settings
        history = self._slot_history.get(slot)
        source = history if history and len(history) >= s.steps_per_hour else self._recent
        if not source:
            return s.min_expected, 1.0
        mean, variance = _trimmed_stats(source, s.trim)
        mean = max(mean, s.min_expected)
        dispersion = max((variance - mean) / (mean * mean), s.min_dispersion)
        return mean, dispersion

    def update(self, count, slot=None):
        """Decide on this step's count (True = alert), then learn from it."""
        s = self.settings
        if slot is None:
            slot = (self._step // s.steps_per_hour) % s.season_slots
        self._step += 1
        self._last_hour.append(count)
        expected, dispersion = self.expectation(slot)
        alert = False
        if self._silent_for > 0:
            self._silent_for -= 1
        else:
            ratio = nb_log_likelihood_ratio(count, expected, dispersion, s.shift)
            self._evidence = max(0.0, self._evidence + ratio)
            hour_volume = sum(self._last_hour)
            if (
                self._evidence >= s.threshold
                and hour_volume >= s.min_count
                and self._step > self._warmup_steps
                # Last, because it sorts a week of values: only evaluated for candidate alerts.
                and hour_volume > s.record_ratio * self.reference_hour()
            ):
                alert = True
                self._evidence = 0.0
                self._silent_for = self._refractory_steps
        self._learn(count, slot)
        return alert

    def reference_hour(self):
        """A typical busy hour before this step: the `record_quantile` of the one-hour volumes
        over the record window (0 when there is no history yet)."""
        if not self._hour_volumes:
            return 0
        ordered = sorted(self._hour_volumes)
        index = min(len(ordered) - 1, int(self.settings.record_quantile * len(ordered)))
        return ordered[index]

    def _learn(self, count, slot):
        self._hour_volumes.append(sum(self._last_hour))
        history = self._slot_history.get(slot)
        if history is None:
            history = self._slot_history[slot] = deque(maxlen=self._per_slot)
        history.append(count)
        self._recent.append(count)


def detect(counts, slots=None, sensitivity="normal", **overrides):
    """Alerts (list of bools) for a whole series; slots, if given, one per count."""
    detector = SpikeDetector(threshold=threshold_for(sensitivity), **overrides)
    if slots is None:
        return [detector.update(count) for count in counts]
    return [detector.update(count, slot) for count, slot in zip(counts, slots, strict=True)]
