from services.intake.results.cli import app

app(prog_name="python -m services.intake.results")
