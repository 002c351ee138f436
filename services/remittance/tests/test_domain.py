"""The posting rules, without a database: matching, money, balancing, reversals, PLB, reassociation."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from rcm.remittance.domain.balancing import check_claim, check_payment
from rcm.remittance.domain.matching import ClaimLineRef, ClaimRef, MatchedBy, match_claim, match_lines
from rcm.remittance.domain.posting import ClaimTotals, patient_share, post_claim
from rcm.remittance.domain.provider_adjustments import PlbKind, apply_provider_adjustments
from rcm.remittance.domain.reassociation import Deposit, PaymentAdvice, reassociate
from rcm.remittance.domain.remit import Adjustment, ClaimRemit, Payment, ProviderAdjustment, ServiceRemit
from rcm.remittance.domain.reversal import PostedClaimPayment, find_original, undo
from rcm.remittance.domain.validity import claim_problems, claim_warnings

D = Decimal
pytestmark = pytest.mark.unit

DOS = date(2025, 3, 3)


def line(
    key: str, code: str = "90837", charge: str = "170.00", *, mods: tuple[str, ...] = (), on: date = DOS
):
    return ClaimLineRef(key, code, on, D(charge), mods)


def claim(claim_id: str, *lines: ClaimLineRef, icns: frozenset[str] = frozenset()) -> ClaimRef:
    lines = lines or (line(f"{claim_id}:1"),)
    return ClaimRef(claim_id, "pat-1", "payer-1", sum((ln.charge for ln in lines), D(0)), lines, icns)


def paid_90837(pcn: str = "clm-0001", **fields) -> ClaimRemit:
    """170.00 charged, 110.00 paid, CO-45 35.00, PR-3 copay 25.00."""
    svc = ServiceRemit(
        "90837",
        D("170.00"),
        D("110.00"),
        service_date=DOS,
        line_key=fields.pop("line_key", None),
        adjustments=(Adjustment("CO", "45", D("35.00")), Adjustment("PR", "3", D("25.00"))),
        rarcs=("N130",),
    )
    values = {
        "patient_control_number": pcn,
        "status": "1",
        "charge": D("170.00"),
        "paid": D("110.00"),
        "patient_responsibility": D("25.00"),
        "payer_claim_number": "ICN-1",
        "services": (svc,),
    }
    values.update(fields)
    return ClaimRemit(**values)


# ---------------------------------------------------------------- matching claims
def test_the_patient_control_number_is_our_claim_id_whatever_the_case() -> None:
    match = match_claim(paid_90837("CLM-0001"), [claim("clm-0001"), claim("clm-0002")])
    assert match.claim is not None and match.claim.claim_id == "clm-0001"
    assert match.matched_by is MatchedBy.CONTROL_NUMBER


def test_a_control_number_cut_to_20_characters_finds_the_long_claim_id() -> None:
    long_id = "org-0001.clm-2025-000123"  # 24 characters
    match = match_claim(paid_90837(long_id[:20]), [claim(long_id), claim("clm-0002")])
    assert match.claim is not None and match.claim.claim_id == long_id
    assert match.matched_by is MatchedBy.TRUNCATED_CONTROL_NUMBER


def test_a_short_prefix_is_not_taken_for_a_cut_control_number() -> None:
    match = match_claim(paid_90837("org-0001"), [claim("org-0001.clm-2025-000123")])
    assert match.claim is None


def test_two_claims_sharing_the_first_20_characters_are_ambiguous() -> None:
    a, b = "org-0001.clm-2025-0001-a", "org-0001.clm-2025-0001-b"
    match = match_claim(paid_90837(a[:20]), [claim(a), claim(b)])
    assert match.claim is None and match.reason == "ambiguous" and set(match.candidates) == {a, b}


def test_the_payer_claim_number_matches_when_the_control_number_does_not() -> None:
    known = claim("clm-0009", icns=frozenset({"ICN-1"}))
    match = match_claim(paid_90837("GARBLED"), [known])
    assert match.claim == known and match.matched_by is MatchedBy.PAYER_CLAIM_NUMBER


def test_a_fuzzy_candidate_goes_to_review_and_is_never_posted() -> None:
    match = match_claim(paid_90837("GARBLED", payer_claim_number=None), [claim("clm-0003")])
    assert match.claim is None and match.reason == "ambiguous" and match.candidates == ("clm-0003",)


def test_no_candidate_at_all_is_no_claim() -> None:
    match = match_claim(paid_90837("GARBLED", payer_claim_number=None), [])
    assert match.claim is None and match.reason == "no_claim"


# ---------------------------------------------------------------- matching lines
def test_ref_6r_names_the_line_before_code_and_date() -> None:
    lines = (line("s1:1"), line("s1:2"))
    svc = ServiceRemit("90837", D("170.00"), D("110.00"), service_date=DOS, line_key="S1:2")
    assert [m.line_key for m in match_lines([svc], lines)] == ["s1:2"]


def test_code_modifiers_and_date_match_when_there_is_no_line_key() -> None:
    lines = (line("a", "90834", "120.00"), line("b", "90837", mods=("95",)), line("c", "90785", "20.00"))
    services = [
        ServiceRemit("90785", D("20.00"), D("15.00"), service_date=DOS),
        ServiceRemit("90837", D("170.00"), D("110.00"), modifiers=("95",), service_date=DOS),
        ServiceRemit("90837", D("170.00"), D("110.00"), service_date=date(2025, 3, 4)),
    ]
    matches = match_lines(services, lines)
    assert [m.line_key for m in matches] == ["c", "b", None]
    assert matches[0].matched_by is MatchedBy.CODE_AND_DATE


def test_each_claim_line_is_used_once() -> None:
    lines = (line("a"), line("b"))
    svc = ServiceRemit("90837", D("170.00"), D("0"), service_date=DOS)
    assert [m.line_key for m in match_lines([svc, svc, svc], lines)] == ["a", "b", None]


def test_lines_without_a_date_of_their_own_match_within_the_claims_statement_period() -> None:
    # DTM*232 2025-03-03 to DTM*233 2025-03-10; neither service line has a DTM*472
    lines = (line("L01", "90837", "170.00"), line("L02", "90837", "160.00", on=date(2025, 3, 10)))
    services = [
        ServiceRemit("90837", D("160.00"), D("110.00")),
        ServiceRemit("90837", D("170.00"), D("110.00")),
    ]
    period = match_lines(services, lines, claim_date=DOS, claim_end=date(2025, 3, 10))
    assert [m.line_key for m in period] == ["L02", "L01"]
    # DTM*232 alone is the one day the claim is on: only the 03-03 line is
    one_day = match_lines(services, lines, claim_date=DOS)
    assert [m.line_key for m in one_day] == ["L01", None]
    # outside the period nothing matches
    later = (line("L03", "90837", "160.00", on=date(2025, 3, 11)),)
    assert [
        m.line_key for m in match_lines(services[:1], later, claim_date=DOS, claim_end=date(2025, 3, 10))
    ] == [None]


def test_of_alike_lines_the_one_with_the_services_units_is_taken() -> None:
    lines = (
        ClaimLineRef("one", "H2019", DOS, D("40.00"), (), 1),
        ClaimLineRef("four", "H2019", DOS, D("40.00"), (), 4),
    )
    svc = ServiceRemit("H2019", D("40.00"), D("30.00"), service_date=DOS, units=D(4))
    assert [m.line_key for m in match_lines([svc], lines)] == ["four"]


# ---------------------------------------------------------------- what a claim payment must say
def test_a_denial_that_pays_money_is_held_and_a_clp05_off_its_pr_adjustments_is_flagged() -> None:
    denied = paid_90837(status="4")  # CLP02 4 with CLP04 110.00
    assert [p.kind for p in claim_problems(denied)] == ["paid_under_a_non_paying_status"]
    assert claim_problems(paid_90837(status="4", paid=D("0"))) == []
    assert claim_warnings(paid_90837()) == []  # CLP05 25.00 = PR-3 25.00
    (warning,) = claim_warnings(paid_90837(patient_responsibility=D("30.00")))
    assert warning.kind == "patient_responsibility_mismatch" and "CLP05 30.00" in warning.message
    # a reversal negates the original's CLP05 as it stood: not compared
    assert claim_warnings(paid_90837(status="22", patient_responsibility=D("-30.00"))) == []


# ---------------------------------------------------------------- posting math
def test_a_paid_line_posts_payment_write_off_and_copay() -> None:
    posting = post_claim(paid_90837(), claim_id="clm-0001", line_keys=["clm-0001:1"])
    (ln,) = posting.lines
    assert (ln.paid, ln.contractual, ln.patient_responsibility, ln.denied) == (
        D("110.00"),
        D("35.00"),
        D("25.00"),
        D("0"),
    )
    assert ln.allowed == D("135.00")  # paid + patient share when AMT*B6 is absent
    assert ln.rarcs == ("N130",)
    totals = ClaimTotals(charge=D("170.00")).plus(posting)
    assert totals.insurance_balance == D("0.00")
    assert patient_share(posting).copay == D("25.00")


def test_deductible_coinsurance_and_copay_are_told_apart() -> None:
    svc = ServiceRemit(
        "90834",
        D("150.00"),
        D("40.00"),
        adjustments=(
            Adjustment("PR", "1", D("50.00")),
            Adjustment("PR", "2", D("10.00")),
            Adjustment("PR", "3", D("20.00")),
            Adjustment("CO", "45", D("30.00")),
        ),
    )
    remit = ClaimRemit("c", "1", D("150.00"), D("40.00"), D("80.00"), services=(svc,))
    share = patient_share(post_claim(remit, claim_id="c", line_keys=["c:1"]))
    assert (share.deductible, share.coinsurance, share.copay, share.total) == (
        D("50.00"),
        D("10.00"),
        D("20.00"),
        D("80.00"),
    )


def test_a_denial_keeps_the_denied_amount_open_but_writes_off_the_fee_schedule_cut() -> None:
    svc = ServiceRemit(
        "90837",
        D("170.00"),
        D("0"),
        adjustments=(Adjustment("CO", "45", D("20.00")), Adjustment("CO", "197", D("150.00"))),
    )
    remit = ClaimRemit("c", "4", D("170.00"), D("0"), services=(svc,))
    posting = post_claim(remit, claim_id="c", line_keys=["c:1"])
    assert (posting.contractual, posting.denied) == (D("20.00"), D("150.00"))
    assert ClaimTotals(charge=D("170.00")).plus(posting).insurance_balance == D("150.00")


def _paid_with_a_refused_line(status: str, group: str, carc: str, amount: str = "20.00") -> ClaimRemit:
    """A paid 90837 (CO-45, PR-3 copay) beside a 90785 the payer paid $0 on with ``group-carc``."""
    refused = ServiceRemit("90785", D(amount), D("0"), adjustments=(Adjustment(group, carc, D(amount)),))
    paid = paid_90837().services[0]
    charge = paid.charge + refused.charge
    return ClaimRemit("c", status, charge, D("110.00"), D("25.00"), services=(paid, refused))


@pytest.mark.parametrize("status", ["1", "2", "3", "19"])
@pytest.mark.parametrize("carc", ["197", "50", "96", "204", "16", "29", "97", "151", "4", "11"])
def test_a_co_denial_on_a_zero_paid_line_of_a_paid_claim_stays_open_as_denied(status: str, carc: str) -> None:
    remit = _paid_with_a_refused_line(status, "CO", carc)
    order = {"19": 1}.get(status, int(status))  # the claim billed to the payer that adjudicates it
    posting = post_claim(remit, claim_id="c", line_keys=["c:1", "c:2"], claim_payer_order=order)
    paid_line, refused = posting.lines
    assert (refused.contractual, refused.denied, refused.patient_responsibility) == (
        D("0"),
        D("20.00"),
        D("0"),
    )
    assert (paid_line.contractual, paid_line.denied) == (D("35.00"), D("0"))
    # the line's balance is open, awaiting the denials service; the patient owes only the copay
    assert ClaimTotals(charge=D("190.00")).plus(posting).insurance_balance == D("20.00")
    assert patient_share(posting).total == (D("0") if status == "19" else D("25.00"))


@pytest.mark.parametrize("carc", ["45", "253", "237", "104", "131", "246", "W1", "P12"])
@pytest.mark.parametrize("status", ["1", "4"])
def test_a_contractual_co_is_written_off_whatever_clp02_says(status: str, carc: str) -> None:
    remit = _paid_with_a_refused_line("1", "CO", carc)
    if status == "4":
        remit = replace(remit, status="4", paid=D("0"), services=remit.services[1:], charge=D("20.00"))
    posting = post_claim(remit, claim_id="c", line_keys=["c:2"] if status == "4" else ["c:1", "c:2"])
    refused = posting.lines[-1]
    assert (refused.contractual, refused.denied) == (D("20.00"), D("0"))
    assert ClaimTotals(charge=remit.charge).plus(posting).insurance_balance == D("0.00")


def test_a_co_denial_at_claim_level_of_a_paid_claim_stays_open_as_denied() -> None:
    remit = paid_90837(
        charge=D("190.00"),
        adjustments=(Adjustment("CO", "197", D("20.00")),),
        services=(*paid_90837().services, ServiceRemit("90785", D("20.00"), D("0"))),
    )
    posting = post_claim(remit, claim_id="c", line_keys=["c:1", None])
    assert (posting.contractual, posting.denied) == (D("35.00"), D("20.00"))
    assert ClaimTotals(charge=D("190.00")).plus(posting).insurance_balance == D("20.00")


@pytest.mark.parametrize(("group", "carc"), [("CO", "23"), ("PI", "23"), ("CO", "71"), ("OA", "23")])
def test_a_prior_payer_s_impact_under_any_group_closes_the_amount_never_leaves_it_denied(
    group: str, carc: str
) -> None:
    # the denials playbook opens no denial for *-23 (71 reads as 23): left open, nothing would close it
    remit = _paid_with_a_refused_line("2", group, carc, "30.00")
    posting = post_claim(remit, claim_id="c", line_keys=["c:1", "c:2"], claim_payer_order=2)
    refused = posting.lines[-1]
    assert (refused.contractual, refused.denied, refused.other) == (D("0"), D("0"), D("30.00"))
    assert ClaimTotals(charge=D("200.00")).plus(posting).insurance_balance == D("0.00")


def test_a_negative_co_raises_the_payment_and_leaves_nothing_open() -> None:
    # CO-94 (processed in excess of charges): the payer paid 10.00 over the 100.00 charged
    svc = ServiceRemit("90834", D("100.00"), D("110.00"), adjustments=(Adjustment("CO", "94", D("-10.00")),))
    posting = post_claim(
        ClaimRemit("c", "1", D("100.00"), D("110.00"), services=(svc,)), claim_id="c", line_keys=["c:1"]
    )
    assert (posting.contractual, posting.denied) == (D("-10.00"), D("0"))
    assert ClaimTotals(charge=D("100.00")).plus(posting).insurance_balance == D("0.00")


@pytest.mark.parametrize("carc", ["197", "50", "96", "16", "4"])
def test_a_payer_initiated_reduction_without_a_contractual_reason_stays_open_as_denied(carc: str) -> None:
    # PI-197 from a Medicaid managed-care plan: the denials service opens a denial as for CO-197
    remit = _paid_with_a_refused_line("1", "PI", carc)
    posting = post_claim(remit, claim_id="c", line_keys=["c:1", "c:2"])
    refused = posting.lines[-1]
    assert (refused.contractual, refused.denied, refused.other) == (D("0"), D("20.00"), D("0"))
    assert ClaimTotals(charge=D("190.00")).plus(posting).insurance_balance == D("20.00")
    assert patient_share(posting).total == D("25.00")


@pytest.mark.parametrize("carc", ["45", "253", "237", "104", "131", "246", "W1", "P12"])
def test_a_payer_initiated_reduction_with_a_contractual_reason_is_written_off_as_co(carc: str) -> None:
    posting = post_claim(_paid_with_a_refused_line("1", "PI", carc), claim_id="c", line_keys=["c:1", "c:2"])
    refused = posting.lines[-1]
    assert (refused.contractual, refused.denied, refused.other) == (D("20.00"), D("0"), D("0"))
    assert ClaimTotals(charge=D("190.00")).plus(posting).insurance_balance == D("0.00")


@pytest.mark.parametrize(("group", "carc"), [("OA", "23"), ("OA", "18"), ("CR", "45")])
def test_oa_and_cr_adjustments_still_close_the_balance_as_other(group: str, carc: str) -> None:
    posting = post_claim(_paid_with_a_refused_line("1", group, carc), claim_id="c", line_keys=["c:1", "c:2"])
    refused = posting.lines[-1]
    assert (refused.contractual, refused.denied, refused.other) == (D("0"), D("0"), D("20.00"))
    assert ClaimTotals(charge=D("190.00")).plus(posting).insurance_balance == D("0.00")


# ---------------------------------------------------------------- write-offs of denials
DENIED_150 = ClaimTotals(charge=D("170.00"), contractual=D("20.00"), denied=D("150.00"))
"""A claim denied CO-197 150.00 after a CO-45 fee-schedule cut of 20.00: 150.00 open."""


def test_a_write_off_closes_the_open_denied_amount() -> None:
    closed, after = DENIED_150.writing_off(D("150.00"))
    assert (closed, after.written_off, after.open_denied, after.insurance_balance) == (
        D("150.00"),
        D("150.00"),
        D("0"),
        D("0.00"),
    )


def test_a_write_off_closes_no_more_than_is_denied_and_open() -> None:
    # the request names the claim's patient share too (booked elsewhere): only 150.00 is denied
    closed, after = DENIED_150.writing_off(D("175.00"))
    assert (closed, after.insurance_balance) == (D("150.00"), D("0.00"))
    again, twice = after.writing_off(D("150.00"))
    assert (again, twice) == (D("0"), after)


def test_a_reversal_after_a_write_off_reopens_the_denied_amount_it_takes_back() -> None:
    _, written_off = DENIED_150.writing_off(D("150.00"))
    reversed_ = replace(written_off, contractual=D("0"), denied=D("0"))
    assert (reversed_.denied_written_off, reversed_.insurance_balance) == (D("0"), D("170.00"))
    # the corrected payment denies again: the claim's write-off closes it, once
    denied_again = replace(reversed_, contractual=D("20.00"), denied=D("150.00"))
    assert (denied_again.denied_written_off, denied_again.insurance_balance) == (D("150.00"), D("0.00"))
    # the corrected payment pays on appeal: the write-off closes nothing, the balance is not overdrawn
    paid_on_appeal = replace(reversed_, paid=D("150.00"), contractual=D("20.00"))
    assert (paid_on_appeal.denied_written_off, paid_on_appeal.insurance_balance) == (D("0"), D("0.00"))


def test_a_forwarded_claim_leaves_the_patient_share_to_the_next_payer() -> None:
    remit = paid_90837(status="19")
    posting = post_claim(remit, claim_id="c", line_keys=["c:1"])
    assert posting.patient_responsibility == D("0") and posting.forwarded == D("25.00")
    assert patient_share(posting).total == D("0")


def test_a_qmb_patients_deductible_coinsurance_and_copay_go_to_the_next_payer_not_the_patient() -> None:
    # Medicare's remark N782 (MOA) says the patient is a Qualified Medicare Beneficiary: the
    # cost sharing is Medicaid's to pay or nobody's; a non-covered PR amount stays the patient's
    svc = ServiceRemit(
        "90834",
        D("150.00"),
        D("80.00"),
        adjustments=(
            Adjustment("CO", "45", D("30.00")),
            Adjustment("PR", "1", D("20.00")),
            Adjustment("PR", "2", D("15.00")),
            Adjustment("PR", "204", D("5.00")),
        ),
    )
    remit = ClaimRemit("c", "1", D("150.00"), D("80.00"), D("40.00"), services=(svc,), rarcs=("N782",))
    posting = post_claim(remit, claim_id="c", line_keys=["c:1"])
    assert (posting.patient_responsibility, posting.forwarded) == (D("5.00"), D("35.00"))
    assert ClaimTotals(charge=D("150.00")).plus(posting).insurance_balance == D("0.00")
    share = patient_share(posting)
    assert (share.deductible, share.coinsurance, share.other) == (D("0"), D("0"), D("5.00"))
    # the reversal takes back exactly what was posted
    back = posting.negated()
    assert (back.patient_responsibility, back.forwarded) == (D("-5.00"), D("-35.00"))


def test_a_qmb_remark_on_one_line_protects_the_cost_sharing_of_every_line() -> None:
    lines = (
        ServiceRemit("90834", D("150.00"), D("120.00"), adjustments=(Adjustment("PR", "2", D("30.00")),)),
        ServiceRemit(
            "90785", D("20.00"), D("16.00"), adjustments=(Adjustment("PR", "2", D("4.00")),), rarcs=("N782",)
        ),
    )
    remit = ClaimRemit("c", "1", D("170.00"), D("136.00"), D("34.00"), services=lines)
    posting = post_claim(remit, claim_id="c", line_keys=["c:1", "c:2"])
    assert (posting.patient_responsibility, posting.forwarded) == (D("0"), D("34.00"))
    # without the remark the same remit is the patient's
    plain = post_claim(
        ClaimRemit(
            "c", "1", D("170.00"), D("136.00"), D("34.00"), services=(lines[0], replace(lines[1], rarcs=()))
        ),
        claim_id="c",
        line_keys=["c:1", "c:2"],
    )
    assert (plain.patient_responsibility, plain.forwarded) == (D("34.00"), D("0"))


def test_not_our_claim_moves_no_money() -> None:
    remit = ClaimRemit("c", "23", D("170.00"), D("0"))
    assert post_claim(remit, claim_id="c", line_keys=[]).lines == ()


def test_claim_level_adjustments_and_unmatched_lines_post_at_claim_level() -> None:
    remit = paid_90837(adjustments=(Adjustment("OA", "23", D("0.00")),))
    posting = post_claim(remit, claim_id="c", line_keys=[None])
    assert [ln.line_key for ln in posting.lines] == [None]
    assert posting.paid == D("110.00")


# ---------------------------------------------------------------- balancing
def test_a_balanced_claim_has_no_imbalance() -> None:
    assert check_claim(paid_90837()) == []


def test_a_claim_that_does_not_add_up_is_flagged_at_claim_and_line() -> None:
    remit = paid_90837(paid=D("120.00"))
    levels = {i.level for i in check_claim(remit)}
    assert levels == {"claim"}
    svc = ServiceRemit("90837", D("170.00"), D("100.00"), adjustments=(Adjustment("CO", "45", D("35.00")),))
    bad_line = ClaimRemit("c", "1", D("170.00"), D("100.00"), services=(svc,))
    assert {i.level for i in check_claim(bad_line)} == {"claim", "line"}


def test_the_check_total_is_claim_payments_minus_plb() -> None:
    plb = (ProviderAdjustment("1234567893", "WO", D("30.00"), "ICN-0"),)
    payment = Payment("T1", "1999999999", D("80.00"), claims=(paid_90837(),), provider_adjustments=plb)
    assert check_payment(payment) is None
    off = Payment("T1", "1999999999", D("110.00"), claims=(paid_90837(),), provider_adjustments=plb)
    imbalance = check_payment(off)
    assert imbalance is not None and imbalance.expected == D("80.00") and imbalance.difference == D("30.00")


# ---------------------------------------------------------------- reversals
def test_a_reversal_undoes_the_original_posting_exactly() -> None:
    original_remit = paid_90837()
    original = post_claim(original_remit, claim_id="c", line_keys=["c:1"])
    posted = [PostedClaimPayment("rmt-1", "c", "ICN-1", D("170.00"), D("110.00"), original)]
    reversal = paid_90837(status="22", charge=D("-170.00"), paid=D("-110.00"))
    found = find_original(reversal, posted)
    assert found is posted[0]
    totals = ClaimTotals(charge=D("170.00")).plus(original).plus(undo(found))
    assert totals == ClaimTotals(charge=D("170.00"))
    assert undo(found).lines[0].adjustments[0].amount == D("-35.00")


def test_a_reversal_finds_nothing_once_the_original_is_reversed() -> None:
    original = post_claim(paid_90837(), claim_id="c", line_keys=["c:1"])
    posted = [PostedClaimPayment("rmt-1", "c", "ICN-1", D("170.00"), D("110.00"), original, reversed=True)]
    assert find_original(paid_90837(status="22", paid=D("-110.00")), posted) is None


# ---------------------------------------------------------------- PLB
def test_a_plb_recoupment_names_the_claim_by_payer_claim_number() -> None:
    plb = [
        ProviderAdjustment("1234567893", "WO", D("45.00"), "ICN-7"),
        ProviderAdjustment("1234567893", "L6", D("-1.27"), "ICN 8"),
        ProviderAdjustment("1234567893", "WO", D("5.00"), "UNKNOWN"),
        ProviderAdjustment("1234567893", "CS", D("2.00"), "ICN-7"),
    ]
    applied = apply_provider_adjustments(plb, {"ICN-7": "clm-7", "8": "clm-8"})
    assert [(a.kind, a.claim_id) for a in applied] == [
        (PlbKind.RECOUPMENT, "clm-7"),
        (PlbKind.INTEREST, "clm-8"),
        (PlbKind.RECOUPMENT, None),
        (PlbKind.OTHER, None),
    ]


def test_a_recoupment_reduces_the_claims_payment_and_reopens_its_balance() -> None:
    totals = ClaimTotals(
        charge=D("170.00"), paid=D("110.00"), contractual=D("35.00"), patient_responsibility=D("25.00")
    )
    after = totals.recouped(D("45.00"))
    assert after.paid == D("65.00") and after.insurance_balance == D("45.00")


# ---------------------------------------------------------------- reassociation
def test_reassociation_links_trace_numbers_and_reports_both_orphans() -> None:
    payments = [
        PaymentAdvice("p1", "0012345", D("100.00"), DOS),
        PaymentAdvice("p2", "999", D("50.00"), DOS),
        PaymentAdvice("p3", "777", D("10.00"), DOS),
        PaymentAdvice("p4", "000", D("0"), DOS),
    ]
    deposits = [
        Deposit("12345", D("100.00"), DOS),
        Deposit("777", D("11.00"), DOS),
        Deposit("555", D("5.00"), DOS),
    ]
    report = reassociate(payments, deposits)
    assert [p.payment_id for p, _ in report.matched] == ["p1"]
    assert [p.payment_id for p, _ in report.amount_mismatches] == ["p3"]
    assert [p.payment_id for p in report.payments_without_deposit] == ["p2"]
    assert [d.trace_number for d in report.deposits_without_payment] == ["555"]


def test_reassociation_matches_the_trace_number_and_the_payer() -> None:
    # two payers used the same trace number; the deposits name their originators (TRN03)
    payments = [
        PaymentAdvice("a", "555", D("100.00"), DOS, "1111111111"),
        PaymentAdvice("b", "00555", D("100.00"), DOS, "1222222222"),
    ]
    deposits = [
        Deposit("555", D("100.00"), DOS, "222222222"),  # payer b's EIN without the '1'
        Deposit("555", D("100.00"), DOS, "1111111111"),
    ]
    report = reassociate(payments, deposits)
    assert [(p.payment_id, d.originator_id) for p, d in report.matched] == [
        ("a", "1111111111"),
        ("b", "222222222"),
    ]
    # a deposit of another payer is not this 835's, whatever its trace number
    report = reassociate(payments[:1], [Deposit("555", D("100.00"), DOS, "1333333333")])
    assert not report.matched and not report.amount_mismatches
    assert [p.payment_id for p in report.payments_without_deposit] == ["a"]
    assert [d.originator_id for d in report.deposits_without_payment] == ["1333333333"]


def test_a_deposit_without_a_payer_whose_trace_two_payers_used_is_left_unmatched_with_a_reason() -> None:
    payments = [
        PaymentAdvice("a", "555", D("100.00"), DOS, "1111111111"),
        PaymentAdvice("b", "555", D("100.00"), DOS, "1222222222"),
    ]
    report = reassociate(payments, [Deposit("555", D("100.00"), DOS)])
    assert not report.matched and not report.amount_mismatches and not report.deposits_without_payment
    assert [p.payment_id for p in report.payments_without_deposit] == ["a", "b"]
    [(deposit, reason)] = report.ambiguous_deposits
    assert deposit.trace_number == "555" and "several payers" in reason
    # one payer's trace: a deposit without an originator still matches on the trace
    report = reassociate(payments[:1], [Deposit("0555", D("100.00"), DOS)])
    assert [p.payment_id for p, _ in report.matched] == ["a"]
