-- KPI 2: core business systems both standardised and migrated to the government cloud by each FY end.
SELECT fy, count(*) FILTER (WHERE s.standardised_on <= make_date(fy + 1, 3, 31)
                             AND s.cloud_migrated_on <= make_date(fy + 1, 3, 31)) AS value
FROM (SELECT unnest(generate_series($start_fy, $end_fy)) AS fy) AS years, core_system AS s
GROUP BY fy
