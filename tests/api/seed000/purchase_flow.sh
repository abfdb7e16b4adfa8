# 1. Register and login
TOKEN=$(curl -s -X POST http://localhost:3000/api/user/auth/login \
  -H "Content-Type: application/json" \
  -d '{"email":"test@example.com","password":"password123"}' | jq -r '.token')

# 2. Create a course (as teacher)
COURSE_ID=$(curl -s -X POST http://localhost:3000/api/course/courses \
  -H "Authorization: Bearer $TOKEN" \
  -H "Content-Type: application/json" \
  -d '{"title":"Test Course","price":99.99,"status":"published"}' | jq -r '.data.id')

# 3. Create payment
PAYMENT_RESPONSE=$(curl -s -X POST http://localhost:3000/api/payment/payments \
  -H "Authorization: Bearer $TOKEN" \
  -H "Content-Type: application/json" \
  -d "{\"courseId\":\"$COURSE_ID\",\"amount\":99.99,\"currency\":\"USD\",\"paymentMethod\":\"stripe\"}")

PAYMENT_ID=$(echo $PAYMENT_RESPONSE | jq -r '.data.paymentId')

# 4. Verify payment (after Stripe confirmation)
curl -X POST http://localhost:3000/api/payment/payments/$PAYMENT_ID/verify \
  -H "Authorization: Bearer $TOKEN" \
  -H "Content-Type: application/json" \
  -d '{"paymentGatewayId":"pi_xxx","signature":"..."}'

# 5. Check enrollment
curl http://localhost:3000/api/course/enrollments/me \
  -H "Authorization: Bearer $TOKEN"
