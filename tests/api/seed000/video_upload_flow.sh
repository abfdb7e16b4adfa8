# 1. Create lecture
LECTURE_ID=$(curl -s -X POST http://localhost:3000/api/course/lectures \
  -H "Authorization: Bearer $TOKEN" \
  -H "Content-Type: application/json" \
  -d '{"courseId":"'$COURSE_ID'","title":"Test Lecture"}' | jq -r '.data.id')

# 2. Initiate upload
UPLOAD_RESPONSE=$(curl -s -X POST http://localhost:3000/api/course/lectures/$LECTURE_ID/upload \
  -H "Authorization: Bearer $TOKEN" \
  -H "Content-Type: application/json" \
  -d '{"fileName":"test.mp4","fileSize":10485760,"contentType":"video/mp4"}')

UPLOAD_URL=$(echo $UPLOAD_RESPONSE | jq -r '.data.uploadUrl')
FILE_ID=$(echo $UPLOAD_RESPONSE | jq -r '.data.fileId')

# 3. Upload to S3
curl -X PUT "$UPLOAD_URL" \
  -H "Content-Type: video/mp4" \
  --data-binary @test.mp4

# 4. Confirm upload
curl -X POST http://localhost:3000/api/course/lectures/$LECTURE_ID/confirm-upload \
  -H "Authorization: Bearer $TOKEN" \
  -H "Content-Type: application/json" \
  -d '{"fileId":"'$FILE_ID'"}'
