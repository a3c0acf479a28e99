"""The dashboards as code: the questions in metabase/ (SQL and display), run here and provisioned to Metabase."""
