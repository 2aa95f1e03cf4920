terraform import hipaa_security_review.example <id>
