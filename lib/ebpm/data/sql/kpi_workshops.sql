-- KPI 4: citizens' digital-skills workshops held (not cancelled) in each FY.
SELECT CASE WHEN month(date) >= 4 THEN year(date) ELSE year(date) - 1 END AS fy,
       count(*) FILTER (WHERE held) AS value
FROM digital_workshop
GROUP BY fy
