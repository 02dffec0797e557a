import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tribu.insights.spikes import (
    SENSITIVITIES,
    SpikeDetector,
    _SlidingQuantile,
    detect,
    nb_log_likelihood_ratio,
    threshold_for,
)

STEPS_PER_DAY = 288  # 5-minute steps


def seasonal_series(days, peak, seed, dispersion=0.1):
    """Counts per 5 minutes with a daily cycle and gamma-Poisson (negative binomial) noise."""
    rng = random.Random(seed)
    counts = []
    for step in range(days * STEPS_PER_DAY):
        hour = (step // 12) % 24
        mean = peak * (0.6 + 0.4 * math.sin(hour / 24 * 2 * math.pi))
        rate = rng.gammavariate(1 / dispersion, mean * dispersion) if mean > 0 else 0
        counts.append(poisson(rng, rate))
    return counts


def poisson(rng, rate):
    # Knuth for small rates, normal approximation for large ones: good enough for tests.
    if rate > 50:
        return max(0, round(rng.gauss(rate, math.sqrt(rate))))
    limit, product, count = math.exp(-rate), rng.random(), 0
    while product > limit:
        product *= rng.random()
        count += 1
    return count


def alert_steps(counts, **options):
    return [step for step, fired in enumerate(detect(counts, **options)) if fired]


def test_a_large_spike_on_a_large_brand_is_caught_once_and_quickly():
    counts = seasonal_series(days=4, peak=200, seed=1)
    start = 3 * STEPS_PER_DAY + 100
    for step in range(start, start + 12):
        counts[step] *= 8
    assert alert_steps(counts) and all(start <= s < start + 12 for s in alert_steps(counts))
    assert len(alert_steps(counts)) == 1


def test_a_burst_on_a_small_brand_is_caught():
    rng = random.Random(2)
    counts = [1 if rng.random() < 3 / STEPS_PER_DAY else 0 for _ in range(5 * STEPS_PER_DAY)]
    start = 4 * STEPS_PER_DAY
    for step in range(start, start + 12):
        counts[step] = 8  # about 100 mentions in an hour against 3 a day
    steps = alert_steps(counts)
    assert steps and start <= steps[0] < start + 12


@pytest.mark.parametrize("peak", [0.01, 0.3, 5, 80, 2000])
@pytest.mark.parametrize("sensitivity", SENSITIVITIES)
def test_noisy_series_without_an_incident_raise_no_alert(peak, sensitivity):
    counts = seasonal_series(days=6, peak=peak, seed=int(peak * 100) + 7)
    assert alert_steps(counts, sensitivity=sensitivity) == []


def test_a_flat_series_raises_no_alert():
    assert alert_steps([5] * (4 * STEPS_PER_DAY), sensitivity="high") == []
    assert alert_steps([0] * (4 * STEPS_PER_DAY), sensitivity="high") == []


def test_a_few_mentions_never_alert_below_the_floor():
    counts = [0] * (3 * STEPS_PER_DAY)
    counts[2 * STEPS_PER_DAY + 5] = 9  # hugely unlikely against ~0, but only 9 mentions
    assert alert_steps(counts, sensitivity="high") == []
    counts[2 * STEPS_PER_DAY + 6] = 30
    assert alert_steps(counts, sensitivity="high") == [2 * STEPS_PER_DAY + 6]


def test_nothing_fires_during_the_first_day():
    counts = [0] * 100 + [500] * 20
    assert alert_steps(counts, sensitivity="high") == []


def test_refractory_period_silences_a_second_burst_until_it_ends():
    counts = [2] * (3 * STEPS_PER_DAY)
    first = 2 * STEPS_PER_DAY
    for step in range(first, first + 6):
        counts[step] = 300
    second = first + 3 * 12  # three hours later: inside the (24-hour) refractory period
    for step in range(second, second + 6):
        counts[step] = 3000
    assert alert_steps(counts, sensitivity="high") == [first]
    shortened = alert_steps(counts, sensitivity="high", refractory_hours=1)
    assert shortened[0] == first and len(shortened) == 2 and second <= shortened[1] < second + 6


def incident(counts, start, hours, volume_per_step):
    for step in range(start, start + hours * 12):
        counts[step] = volume_per_step


def test_a_second_incident_in_the_same_week_is_not_masked_by_a_bigger_first_one():
    counts = seasonal_series(days=7, peak=20, seed=8)
    first = 2 * STEPS_PER_DAY + 150
    incident(counts, first, hours=1, volume_per_step=400)  # 4,800 in an hour
    second = 6 * STEPS_PER_DAY + 150
    incident(counts, second, hours=1, volume_per_step=250)  # 3,000: smaller, four days later
    steps = alert_steps(counts)
    assert any(first <= s < first + 24 for s in steps)
    assert any(second <= s < second + 24 for s in steps)
    # Against the single busiest hour of the week (the former rule) the second one is hidden.
    masked = alert_steps(counts, record_quantile=1.0, record_ratio=1.0)
    assert not any(second <= s < second + 24 for s in masked)


def test_a_burst_that_recurs_every_day_is_routine_and_never_alerts():
    counts = seasonal_series(days=6, peak=20, seed=9)
    for day in range(6):
        incident(counts, day * STEPS_PER_DAY + 200, hours=1, volume_per_step=100)
    assert alert_steps(counts, sensitivity="high") == []


def test_a_burst_must_beat_the_typical_busy_hour_by_the_record_ratio():
    counts = [2] * (3 * STEPS_PER_DAY)
    first = STEPS_PER_DAY + 100
    incident(counts, first, hours=3, volume_per_step=40)  # 480 an hour for 3 hours
    second = 2 * STEPS_PER_DAY + 200  # after the 24-hour refractory period
    incident(counts, second, hours=1, volume_per_step=45)  # 540 an hour: 1.125 x the record
    steps = alert_steps(counts, sensitivity="high")
    assert len(steps) == 1 and first <= steps[0] < first + 12
    steps = alert_steps(counts, sensitivity="high", record_ratio=1.0)
    assert len(steps) == 2 and second <= steps[1] < second + 12


def test_the_reference_hour_is_a_high_percentile_of_the_weeks_hourly_volumes():
    detector = SpikeDetector()
    assert detector.reference_hour() == 0
    for step in range(STEPS_PER_DAY):
        detector.update(50 if step == 100 else 1)
    # One isolated busy step: it sits in 12 one-hour windows out of 288, about 4 % of them.
    assert detector.reference_hour() == 61
    assert SpikeDetector(record_quantile=0.9).reference_hour() == 0
    median = SpikeDetector(record_quantile=0.5)
    for step in range(STEPS_PER_DAY):
        median.update(50 if step == 100 else 1)
    assert median.reference_hour() == 12


def test_high_sensitivity_fires_at_least_as_often_as_low():
    counts = seasonal_series(days=6, peak=20, seed=3)
    for day, factor in [(2, 2.5), (3, 4), (4, 6), (5, 10)]:
        for step in range(day * STEPS_PER_DAY + 150, day * STEPS_PER_DAY + 170):
            counts[step] = int(counts[step] * factor)
    low, normal, high = (len(alert_steps(counts, sensitivity=s)) for s in SENSITIVITIES)
    assert low <= normal <= high
    assert high > low


@settings(max_examples=25, deadline=None)
@given(
    prefix=st.lists(st.integers(0, 400), min_size=1, max_size=400),
    future=st.lists(st.integers(0, 5000), max_size=50),
    sensitivity=st.sampled_from(SENSITIVITIES),
)
def test_no_look_ahead_future_values_never_change_past_decisions(prefix, future, sensitivity):
    # Short warm-up and record window so the small examples reach the alerting logic.
    options = {"sensitivity": sensitivity, "warmup_hours": 1, "record_days": 1}
    alone = detect(prefix, **options)
    extended = detect(prefix + future, **options)
    assert extended[: len(prefix)] == alone


def test_no_look_ahead_on_a_realistic_series():
    counts = seasonal_series(days=3, peak=30, seed=4)
    counts[2 * STEPS_PER_DAY + 10] = 5000
    decisions = detect(counts, sensitivity="high")
    for cut in (2 * STEPS_PER_DAY, 2 * STEPS_PER_DAY + 10, 2 * STEPS_PER_DAY + 11):
        changed = counts[:cut] + [0] * (len(counts) - cut)
        assert detect(changed, sensitivity="high")[:cut] == decisions[:cut]


def test_slots_given_explicitly_match_the_implicit_hour_of_day():
    counts = seasonal_series(days=3, peak=10, seed=5)
    slots = [(step // 12) % 24 for step in range(len(counts))]
    assert detect(counts, slots=slots) == detect(counts)


def test_expectation_follows_the_hour_of_day():
    detector = SpikeDetector()
    for step in range(2 * STEPS_PER_DAY):
        detector.update(50 if (step // 12) % 24 == 12 else 5)
    assert detector.expectation(12)[0] == pytest.approx(50)
    assert detector.expectation(3)[0] == pytest.approx(5)


def test_the_likelihood_ratio_grows_with_the_count_and_shrinks_with_dispersion():
    assert nb_log_likelihood_ratio(0, 10, 0.1, 3) < 0 < nb_log_likelihood_ratio(40, 10, 0.1, 3)
    assert nb_log_likelihood_ratio(40, 10, 1.0, 3) < nb_log_likelihood_ratio(40, 10, 0.1, 3)


def test_sensitivity_names_and_numbers():
    assert threshold_for("low") > threshold_for("normal") > threshold_for("high")
    assert threshold_for("12.5") == 12.5
    for bad in ("extreme", "0", "-3", "nan", "inf", None):
        with pytest.raises(ValueError):
            threshold_for(bad)


def steady_series(days, per_day, seed, dispersion=0.3, steps_per_hour=12, daily_swing=0.0):
    """Counts per step around `per_day` a day, negative binomial (gamma-Poisson) noise; with
    `daily_swing` the hourly level follows a daily cycle (e.g. 0.5: from half to 1.5 times)."""
    rng = random.Random(seed)
    steps_per_day = 24 * steps_per_hour
    counts = []
    for step in range(days * steps_per_day):
        hour = (step // steps_per_hour) % 24
        mean = per_day / steps_per_day * (1 + daily_swing * math.sin(hour / 24 * 2 * math.pi))
        counts.append(poisson(rng, rng.gammavariate(1 / dispersion, mean * dispersion)))
    return counts


def bad_buzz(counts, start, per_hour, hours=3, steps_per_hour=12):
    """Add a bad buzz of `per_hour` extra mentions an hour from step `start`."""
    for step in range(start, start + hours * steps_per_hour):
        counts[step] += per_hour // steps_per_hour


@pytest.mark.parametrize("sensitivity", SENSITIVITIES)
def test_a_small_brand_with_three_mentions_a_day_is_quiet_for_two_months(sensitivity):
    counts = steady_series(days=60, per_day=3, seed=11)
    assert 100 < sum(counts) < 260
    assert alert_steps(counts, sensitivity=sensitivity) == []


def test_a_bad_buzz_on_a_small_brand_alerts_within_the_first_hour():
    counts = steady_series(days=60, per_day=3, seed=12)
    start = 45 * STEPS_PER_DAY + 130
    bad_buzz(counts, start, per_hour=36)  # 36 mentions an hour against 3 a day
    steps = alert_steps(counts)
    assert len(steps) == 1 and start <= steps[0] < start + 12


@pytest.mark.parametrize("sensitivity", SENSITIVITIES)
def test_a_large_brand_with_a_daily_cycle_is_quiet_for_two_months(sensitivity):
    counts = steady_series(days=60, per_day=5000, seed=13, dispersion=0.1, daily_swing=0.7)
    assert alert_steps(counts, sensitivity=sensitivity) == []


def test_a_bad_buzz_on_a_large_brand_alerts_within_the_first_hour():
    counts = steady_series(days=60, per_day=5000, seed=14, dispersion=0.1, daily_swing=0.7)
    start = 50 * STEPS_PER_DAY + 40  # at night, when the brand is quietest
    bad_buzz(counts, start, per_hour=1200)  # about four times the busiest hour of the day
    steps = alert_steps(counts)
    assert len(steps) == 1 and start <= steps[0] < start + 12


def test_a_slow_build_up_is_caught_by_the_slow_path_only():
    counts = steady_series(days=20, per_day=2000, seed=15, dispersion=0.05, daily_swing=0.5)
    start = 15 * STEPS_PER_DAY
    for step in range(start, start + STEPS_PER_DAY):
        counts[step] = round(counts[step] * 1.6)  # 60 % more all day: no hour stands out much
    steps = alert_steps(counts, slow_ratio=1.15)
    assert len(steps) == 1 and start <= steps[0] < start + STEPS_PER_DAY
    assert alert_steps(counts) == []  # the slow path is off by default


def test_hourly_series_are_supported():
    counts = steady_series(days=60, per_day=3, seed=16, steps_per_hour=1)
    assert detect(counts, steps_per_hour=1) == [False] * len(counts)
    start = 40 * 24 + 10
    counts[start] += 40  # 40 mentions in one hour against 3 a day
    assert [step for step, fired in enumerate(detect(counts, steps_per_hour=1)) if fired] == [start]
    # A large brand, with hour-to-hour swings of about 20 % around its daily cycle.
    large = steady_series(
        days=30, per_day=5000, seed=17, dispersion=0.04, daily_swing=0.7, steps_per_hour=1
    )
    assert not any(detect(large, steps_per_hour=1))
    large[25 * 24 + 3] += 1500  # at night: over four times the busiest usual hour
    assert [s for s, fired in enumerate(detect(large, steps_per_hour=1)) if fired] == [25 * 24 + 3]


def test_the_detector_explains_the_last_hour():
    detector = SpikeDetector()
    for _ in range(2 * STEPS_PER_DAY):
        detector.update(2)  # 24 an hour
    assert detector.last_hour_volume == 24
    assert detector.last_expected_hour == pytest.approx(24)
    assert detector.update(200)
    assert detector.last_hour_volume == 222  # 11 steps of 2, then 200
    assert detector.last_expected_hour == pytest.approx(24)  # decided before learning

    hourly = SpikeDetector(steps_per_hour=1)
    for _ in range(48):
        hourly.update(4)
    hourly.update(87)
    assert hourly.last_hour_volume == 87 and hourly.last_expected_hour == pytest.approx(4)


@settings(max_examples=50, deadline=None)
@given(values=st.lists(st.integers(0, 50), max_size=80), size=st.integers(1, 10))
def test_the_sliding_quantile_matches_sorting_the_window(values, size):
    window = _SlidingQuantile(size)
    for end, value in enumerate(values, start=1):
        window.push(value)
        kept = sorted(values[max(0, end - size) : end])
        for q in (0.0, 0.5, 0.99):
            assert window.quantile(q) == kept[min(len(kept) - 1, int(q * len(kept)))]
