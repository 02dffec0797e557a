"""tribu.insights.charts: accessible SVG, escaped labels, CSV neutralised."""

from tribu.insights import charts


def chart(**fields):
    values = {
        "key": "chart-x",
        "title": "Mentions <per> day",
        "description": "Two days & two series",
        "labels": ["01/03", "02/03"],
        "series": [
            charts.Series("Négatif", [1, 3], css_class="sent-negative"),
            charts.Series('<script>"x"', [2, 0], colour="#b91c1c"),
        ],
        "links": ["/a", None],
    }
    values.update(fields)
    return charts.Chart(**values)


def test_stacked_bars_are_accessible_and_escaped():
    svg = str(charts.stacked_bars(chart()).svg)
    assert svg.startswith("<svg") and 'role="img"' in svg
    assert 'aria-labelledby="chart-x-title chart-x-desc"' in svg
    assert '<title id="chart-x-title">Mentions &lt;per&gt; day</title>' in svg
    assert '<desc id="chart-x-desc">Two days &amp; two series</desc>' in svg
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert svg.count("<rect ") == 3  # the zero value draws nothing
    assert 'fill="#b91c1c"' in svg and 'class="sent-negative"' in svg
    assert "style=" not in svg


def test_bar_heights_are_proportional():
    svg = str(charts.stacked_bars(chart(series=[charts.Series("n", [5, 10])])).svg)
    plot = charts.HEIGHT - charts.PAD_TOP - charts.PAD_BOTTOM
    # The axis tops at 10: the full bar is the plot's height, the half bar half of it.
    assert f'height="{plot:.2f}"' in svg and f'height="{plot / 2:.2f}"' in svg


def test_percent_charts_top_at_100():
    rendered = charts.stacked_bars(chart(series=[charts.Series("a", [40.0, 60.0])]), percent=True)
    assert ">100%<" in str(rendered.svg)
    assert rendered.rows[0] == ("01/03", "/a", [40.0], 40.0)


def test_rows_for_the_table_alternative():
    rows = chart().rows
    assert rows == [("01/03", "/a", [1, 2], 3), ("02/03", None, [3, 0], 3)]


def test_csv_cells_are_neutralised():
    for dangerous in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx"):
        assert charts.csv_cell(dangerous) == "'" + dangerous
    assert charts.csv_cell("fine") == "fine" and charts.csv_cell(None) == ""
    response = charts.csv_response("x.csv", ["Name", "Count"], [["=evil", -3]])
    assert response.content.decode().splitlines() == ["Name,Count", "'=evil,-3"]
    assert 'filename="x.csv"' in response["Content-Disposition"]


def test_share_bar():
    svg = str(charts.share_bar("s", "Split", "a: 1, b: 3", [("a", 1, "x"), ("b", 3, "y")]))
    assert 'role="img"' in svg and svg.count("<rect ") == 2
    assert f'width="{charts.WIDTH * 0.75:.2f}"' in svg
