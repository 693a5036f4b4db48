"""Forms made from command types, without a server: which boxes a command gets, how a posted
form becomes the command (the API's conversion), and how a refusal lands beside its field."""

from __future__ import annotations

from decimal import Decimal
from uuid import uuid4

import pytest

from application.sales.commands import CompleteContractTerms, DraftContract
from domain.base import InvalidValueError
from domain.contracts import PaymentMethod, ScheduleMethod
from interfaces.console import forms
from interfaces.console.i18n import Language, negotiate

ZH, EN = Language("zh_CN"), Language("en")
COMPANY, CUSTOMER, MODEL = uuid4(), uuid4(), uuid4()
CHOICES = {"company_id": [(str(COMPANY), "HF")], "customer_id": [(str(CUSTOMER), "Earthworks")],
           "model_id": [(str(MODEL), "SY215C")]}


def draft_form(lang: Language = ZH) -> forms.Form:
    return forms.build(lang, DraftContract, "/x", choices=CHOICES, rows={"lines": 3})


def posted(**values: str) -> dict[str, str]:
    base = {"company_id": str(COMPANY), "customer_id": str(CUSTOMER), "lines.0.model_id": str(MODEL),
            "lines.0.quantity": "2", "lines.0.unit_price": "380000.00", "lines.1.substitute_allowed": "on"}
    return base | values


def test_a_command_gives_its_boxes_in_the_office_words():
    form = draft_form()
    by_name = {f.name: f for f in form.fields()}
    assert by_name["customer_id"].kind == "select" and by_name["customer_id"].label == "客户"
    assert by_name["lines.0.quantity"].kind == "number" and (by_name["lines.0.quantity"].min,
                                                             by_name["lines.0.quantity"].max) == (1, 1000)
    assert by_name["lines.2.unit_price"].kind == "decimal"
    assert by_name["lines.0.substitute_allowed"].kind == "checkbox"
    assert not by_name["contact_id"].required and by_name["company_id"].required
    assert form.submit == "保存草稿" and draft_form(EN).submit == "Save the draft"
    terms = forms.build(ZH, CompleteContractTerms, "/x", omit=("contract_id",))
    names = {f.name: f for f in terms.fields()}
    assert "contract_id" not in names
    assert names["payment"].options == [("cash", "全款"), ("installment", "分期")]
    assert names["installment.method"].value == "equal_installment"     # its default, shown


def test_a_posted_form_becomes_the_command_and_rows_nobody_filled_in_are_left_out():
    command = forms.command_of(ZH, draft_form(), posted(**{"lines.0.substitute_allowed": "on"}), {})
    assert isinstance(command, DraftContract)
    [line] = command.lines          # row 2 holds only a ticked box, row 3 nothing: neither is a line
    assert (line.model_id, line.quantity, line.unit_price, line.substitute_allowed) == (
        MODEL, 2, Decimal("380000.00"), True)
    assert command.contact_id is None
    with pytest.raises(forms.FormRefused) as refused:      # a typed quantity makes row 2 a line
        forms.command_of(ZH, draft_form(), posted(**{"lines.1.quantity": "1"}), {})
    assert refused.value.field == "lines.1.model_id"


def test_a_nested_part_holding_only_its_defaults_is_absent():
    form = forms.build(ZH, CompleteContractTerms, "/x", omit=("contract_id",), rows={"accessories": 2})
    values = {"payment": "cash", "installment.method": "equal_installment", "accessories.0.quantity": "1",
              "accessories.0.unit_price": "0.00", "accessories.1.name": "破碎锤", "accessories.1.quantity": "2"}
    command = forms.command_of(ZH, form, values, {"contract_id": str(uuid4())})
    assert isinstance(command, CompleteContractTerms)
    assert command.installment is None and command.payment == PaymentMethod.CASH
    assert [(a.name, a.quantity) for a in command.accessories] == [("破碎锤", 2)]
    values |= {"payment": "installment", "installment.months": "12", "installment.annual_rate": "0.0435",
               "installment.first_due_date": "2027-01-31"}
    command = forms.command_of(ZH, form, values, {"contract_id": str(uuid4())})
    assert command.installment is not None and command.installment.method == ScheduleMethod.EQUAL_INSTALLMENT


@pytest.mark.parametrize("values, field, message", [
    ({"lines.0.quantity": "0"}, "lines.0.quantity", "请输入 1 到 1000 之间的整数。"),
    ({"lines.0.unit_price": "三十万"}, "lines.0.unit_price", "请输入金额，例如 380000.00。"),
    ({"customer_id": ""}, "customer_id", "请填写此项。"),
    ({"customer_id": "not-an-id"}, "customer_id", "请从选项中选择。"),
])
def test_what_cannot_make_the_command_is_said_beside_its_field(values, field, message):
    form = draft_form()
    with pytest.raises(forms.FormRefused) as refused:
        forms.command_of(ZH, form, posted(**values), {})
    forms.fill(form, posted(**values))
    forms.refused(ZH, form, refused.value)
    target = form.find(field)
    assert target is not None and target.name == field and target.error == message
    [(name, summary, _)] = form.errors
    assert name == field and summary == f"{target.label}：{message}"
    assert {f.name: f.value for f in form.fields()}["lines.0.unit_price"] == posted(**values)["lines.0.unit_price"]


def test_a_refusal_of_the_rules_is_said_in_chinese_with_the_rule_s_own_sentence_kept():
    form = draft_form()
    error = InvalidValueError("The quantity is between 1 and 1000.", field="quantity")
    forms.refused(ZH, form, error)
    target = form.find("quantity")
    assert target is not None and target.name == "lines.0.quantity"
    assert target.error == "填写的内容不符合要求。" and form.errors[0][2] == "The quantity is between 1 and 1000."
    english = draft_form(EN)
    forms.refused(EN, english, error)
    assert english.errors[0][1] == "Quantity: The quantity is between 1 and 1000." and english.errors[0][2] is None


def test_the_language_is_the_person_s_choice_else_the_browser_s_else_chinese():
    assert negotiate(None, None) == "zh_CN"
    assert negotiate(None, "en-GB,en;q=0.9") == "en"
    assert negotiate(None, "fr-FR,en;q=0.5,zh-CN;q=0.8") == "zh_CN"
    assert negotiate("en", "zh-CN") == "en"
    assert negotiate("xx", "garbage;;q=") == "zh_CN"


def test_money_and_dates_look_as_the_office_writes_them():
    assert ZH.money(Decimal("380000")) == "¥380,000.00" == EN.money("380000.00")
    assert ZH.money(Decimal("-1234.5")) == "¥-1,234.50"
    assert ZH.day("2026-12-06") == "2026-12-06"
