terraform import hipaa_baa.example <id>
