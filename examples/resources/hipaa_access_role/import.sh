terraform import hipaa_access_role.example <id>
