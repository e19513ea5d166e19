-- KPI 3: completed staff-training attendances in each FY (延べ: one person may count more than once).
SELECT CASE WHEN month(date) >= 4 THEN year(date) ELSE year(date) - 1 END AS fy,
       count(*) FILTER (WHERE completed) AS value
FROM staff_training
GROUP BY fy
