// Opens Razorpay Standard Checkout from data attributes (no inline script: our CSP forbids it).
document.addEventListener("DOMContentLoaded", () => {
  const button = document.getElementById("razorpay-pay");
  if (!button || typeof window.Razorpay !== "function") return;
  const d = button.dataset;
  const checkout = new window.Razorpay({
    key: d.key,
    order_id: d.orderId,
    amount: d.amount,
    currency: d.currency,
    name: d.name,
    callback_url: d.callbackUrl,
    redirect: true,
    prefill: { email: d.email, name: d.contactName },
    modal: { ondismiss: () => { window.location.href = d.cancelUrl; } },
  });
  button.addEventListener("click", (event) => { event.preventDefault(); checkout.open(); });
});
