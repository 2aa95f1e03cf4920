terraform import hipaa_license.example <id>
