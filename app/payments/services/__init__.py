"""Payment rules, one module each: sessions, fulfilment, refunds, webhooks, reconciliation."""

from app.payments.services.fulfilment import (
    Verification,
    apply_payment_facts,
    close_payment,
    fulfil_payment,
    verify_payment,
)
from app.payments.services.lookup import find_refund
from app.payments.services.refunds import (
    RefundError,
    RefundPlan,
    check_refund_policy,
    claim_refund,
    make_refund,
    plan_payment_refund,
    plan_refund,
    request_buyer_refund,
    request_refund,
)
from app.payments.services.sessions import (
    AmountMismatch,
    CheckoutResult,
    CoursePurchase,
    PaymentNotOpen,
    buy_course,
    cancel_payment,
    checkout_cart,
    retry_payment,
    start_payment,
)
from app.payments.services.webhooks import (
    Ingested,
    apply_provider_refund,
    ingest_webhook,
    process_event,
)

__all__ = [
    "AmountMismatch",
    "CheckoutResult",
    "CoursePurchase",
    "Ingested",
    "PaymentNotOpen",
    "RefundError",
    "RefundPlan",
    "Verification",
    "apply_payment_facts",
    "apply_provider_refund",
    "buy_course",
    "cancel_payment",
    "check_refund_policy",
    "checkout_cart",
    "claim_refund",
    "close_payment",
    "find_refund",
    "fulfil_payment",
    "ingest_webhook",
    "make_refund",
    "plan_payment_refund",
    "plan_refund",
    "process_event",
    "request_buyer_refund",
    "request_refund",
    "retry_payment",
    "start_payment",
    "verify_payment",
]
