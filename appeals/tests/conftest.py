from appeals.tests import fixtures

heads, missed, team = fixtures.heads, fixtures.missed, fixtures.team
