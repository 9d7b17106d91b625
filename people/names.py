"""People as colleagues know them: the one rule for showing a user's name, in code and in templates."""


def person_name(user, nobody: str = "—") -> str:
    """Full name, else username; `nobody` when there is no user."""
    if user is None:
        return nobody
    return name_of(user.first_name, user.last_name, user.username)


def name_of(first_name: str, last_name: str, username: str) -> str:
    """`person_name` from the user's columns, for code that reads them as values, not users."""
    return f"{first_name} {last_name}".strip() or username


def person_name_sql(user: str) -> str:
    """`person_name` as an SQL expression on the user table's alias `user` (NULL when there is no
    user), for texts composed in the database. Names are stored trimmed (the forms strip them), so
    trimming spaces is all `str.strip` would do."""
    return f"COALESCE(NULLIF(BTRIM({user}.first_name || ' ' || {user}.last_name), ''), {user}.username)"
