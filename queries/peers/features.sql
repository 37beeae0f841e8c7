-- What the peer boroughs are chosen on, per London borough: Census 2021 residents, land area of its LSOA 2021 polygons (km², equal-area projection), and its LSOA 2011 count, mean IMD 2019 score and LSOAs in England's most deprived 10%.
-- params: none
-- columns: borough_code, borough_name, residents, area_km2, imd_lsoas, imd_mean_score, imd_decile1_lsoas
-- example: {}
SELECT borough_code, borough_name, residents, area_km2, imd_lsoas, imd_mean_score, imd_decile1_lsoas
FROM borough_features
ORDER BY borough_code
