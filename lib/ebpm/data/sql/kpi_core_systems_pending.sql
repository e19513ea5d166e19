-- KPI 2 shortfall: core systems not both standardised and migrated by the end of $end_fy, with the
-- reason the data give (status) and the planned completion year.
SELECT name, department, status, planned_completion_fy
FROM core_system
WHERE NOT (coalesce(standardised_on <= make_date($end_fy + 1, 3, 31), false)
           AND coalesce(cloud_migrated_on <= make_date($end_fy + 1, 3, 31), false))
ORDER BY planned_completion_fy, system_id
