import pytest

from cnnreport.science.layers import (
    conv_out,
    conv_transpose_out,
    count_formula,
    format_formula,
    hook_shapes,
    layer_table,
    measured_receptive_fields,
    total,
)
from cnnreport.science.models import ARCHITECTURES, build_model

CASES = [(arch, k) for arch in ARCHITECTURES for k in (1, 3, 5, 7)]


def test_size_formulas():
    assert conv_out(32, 3, 1, 1) == 32 and conv_out(32, 3, 2, 1) == 16 and conv_out(32, 2, 2) == 16
    assert conv_out(7, 3, 2, 0) == 3                       # floor((7 - 3) / 2) + 1
    assert conv_transpose_out(16, 5, 2, 2, 1) == 32


@pytest.mark.parametrize("arch,kernel", CASES)
def test_formula_table_matches_the_real_modules(arch, kernel):
    model = build_model(arch, kernel, num_filters=6, num_colours=5)
    rows = layer_table(model)
    hooked = hook_shapes(model)
    tabled = {r["layer"]: r["shape"] for r in rows if r["layer"] not in ("cat", "add")}
    assert tabled and all(hooked[name] == shape for name, shape in tabled.items())
    assert rows[-1]["shape"] == (5, 32, 32)
    assert total(rows, "params") == sum(p.numel() for p in model.parameters())
    # receptive fields do not depend on the widths: measure them on a narrow copy
    measured = measured_receptive_fields(build_model(arch, kernel, 2, 2), list(tabled))
    assert measured == {r["layer"]: r["rf"] for r in rows if r["layer"] in tabled}


def test_known_receptive_fields():
    final = {a: layer_table(build_model(a, 3, 2, 2))[-1] for a in ARCHITECTURES}
    assert {a: r["rf"] for a, r in final.items()} == {"cnn": 26, "cnnskips": 26, "unet": 15, "convtranspose": 15, "resnet": 37}
    assert final["cnn"]["rf_textbook"] == 24   # the recursion misses nearest upsampling's phases


def test_count_formulas():
    cnn = count_formula("cnn", "params", 3)
    # 9 (NF + 2NF^2 + 2NF^2 + NF NC + NC^2) + biases (5 convs) + BatchNorm (2 per channel)
    assert format_formula(cnn) == "36·NF² + 9·NF·NC + 9·NC² + 21·NF + 4·NC"
    for arch in ARCHITECTURES:
        model = build_model(arch, 5, 7, 11)
        n = sum(p.numel() for p in model.parameters())
        poly = count_formula(arch, "params", 5)
        terms = {"NF²": 49, "NF·NC": 77, "NC²": 121, "NF": 7, "NC": 11, "1": 1}
        assert sum(c * terms[m] for m, c in poly.items()) == n
