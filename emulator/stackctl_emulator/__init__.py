"""stackctl's local AWS emulator: moto's server plus seeding, a request log and
patches that make moto answer like AWS for the calls stackctl makes."""
