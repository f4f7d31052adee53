-- A team's path is a TeamPath, as the gateway writes it: segments of lower-case letters,
-- digits and dashes, each between slashes, with the trailing slash that makes "is within" a
-- prefix test (/northwind/east-1/ is not within /northwind/east/). A row of any other form
-- could be compared wrongly, so none can be stored.
ALTER TABLE teams ADD CONSTRAINT teams_path_is_a_team_path
    CHECK (path ~ '^(/[a-z0-9-]{1,64})+/$');
