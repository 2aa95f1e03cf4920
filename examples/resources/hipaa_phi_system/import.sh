terraform import hipaa_phi_system.example <id>
