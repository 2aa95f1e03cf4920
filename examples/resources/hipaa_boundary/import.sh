terraform import hipaa_boundary.example <id>
