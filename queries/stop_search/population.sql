-- Census 2021 usual residents (all ages) per London borough: all residents and each of the five broad ethnic groups (TS021).
-- params: none
-- columns: borough_code, borough_name, ethnic_group, residents
-- example: {}
SELECT borough_code, borough_name, ethnic_group, residents
FROM borough_population
ORDER BY borough_code, ethnic_group
